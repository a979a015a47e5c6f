/**
 * The /v1/available-attributes router: registers each route contract (./attributes.routes.ts) with its handler
 * (./attributes.handlers.ts), after the scope middleware, in the order the paths must match.
 */
import { adminWritesReadersRead } from "../../auth/middleware";
import { createRouter, registerRoutes } from "../openapi";
import * as handlers from "./attributes.handlers";
import * as routes from "./attributes.routes";

export const attributesRouter = createRouter();
// Hono's "/x/*" also matches "/x", so this one guard covers the collection and its items.
attributesRouter.use("/v1/available-attributes/*", adminWritesReadersRead);
registerRoutes(attributesRouter, routes, handlers, ["list", "create", "update", "remove"]);
