/**
 * The /platform/tenants router: registers each route contract (./tenants.routes.ts) with its handler
 * (./tenants.handlers.ts), after the scope middleware, in the order the paths must match.
 */
import { createRouter } from "../../rest/openapi";
import { requirePlatformAdmin } from "../admin";
import * as handlers from "./tenants.handlers";
import * as routes from "./tenants.routes";

export const platformRouter = createRouter();
platformRouter.use("/platform/*", requirePlatformAdmin);
platformRouter.openapi(routes.create, handlers.create);
platformRouter.openapi(routes.list, handlers.list);
platformRouter.openapi(routes.get, handlers.get);
platformRouter.openapi(routes.update, handlers.update);
platformRouter.openapi(routes.addDomain, handlers.addDomain);
platformRouter.openapi(routes.removeDomain, handlers.removeDomain);
