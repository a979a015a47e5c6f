/**
 * The /v1/invitations router: registers each route contract (./invitations.routes.ts) with its handler
 * (./invitations.handlers.ts), after the scope middleware, in the order the paths must match.
 */
import { requireScope } from "../../auth/middleware";
import { createRouter, registerRoutes } from "../openapi";
import * as handlers from "./invitations.handlers";
import * as routes from "./invitations.routes";

export const invitationsRouter = createRouter();
invitationsRouter.use("/v1/invitations/*", async (c, next) => requireScope(c.req.method === "GET" ? "users:read" : "users:write")(c, next));
registerRoutes(invitationsRouter, routes, handlers, ["invite", "list", "get", "resend", "revoke", "accept"]);
