/**
 * The /v1/roles router: registers each route contract (./roles.routes.ts) with its handler
 * (./roles.handlers.ts), after the scope middleware, in the order the paths must match.
 */
import { adminWritesReadersRead } from "../../auth/middleware";
import { createRouter, registerRoutes } from "../openapi";
import * as handlers from "./roles.handlers";
import * as routes from "./roles.routes";

export const rolesRouter = createRouter();
rolesRouter.use("/v1/roles/*", adminWritesReadersRead);
registerRoutes(rolesRouter, routes, handlers, ["list", "create", "get", "update", "remove"]);
