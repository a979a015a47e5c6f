/**
 * The /v1/roles router: registers each route contract (./roles.routes.ts) with its handler
 * (./roles.handlers.ts), after the scope middleware, in the order the paths must match.
 */
import { adminWritesReadersRead } from "../../auth/middleware";
import { createRouter } from "../openapi";
import * as handlers from "./roles.handlers";
import * as routes from "./roles.routes";

export const rolesRouter = createRouter();
rolesRouter.use("/v1/roles/*", adminWritesReadersRead);
rolesRouter.openapi(routes.list, handlers.list);
rolesRouter.openapi(routes.create, handlers.create);
rolesRouter.openapi(routes.get, handlers.get);
rolesRouter.openapi(routes.update, handlers.update);
rolesRouter.openapi(routes.remove, handlers.remove);
