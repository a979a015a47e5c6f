/**
 * The /v1/events router: registers each route contract (./events.routes.ts) with its handler
 * (./events.handlers.ts), after the scope middleware, in the order the paths must match.
 */
import { requireScope } from "../../auth/middleware";
import { createRouter, registerRoutes } from "../openapi";
import * as handlers from "./events.handlers";
import * as routes from "./events.routes";

export const eventsRouter = createRouter();
eventsRouter.use("/v1/events", requireScope("users:read"));
eventsRouter.use("/v1/events/*", async (c, next) => requireScope(c.req.method === "GET" ? "users:read" : "admin")(c, next));
registerRoutes(eventsRouter, routes, handlers, ["feed", "get", "replay"]);
