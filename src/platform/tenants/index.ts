/**
 * The /platform/tenants router: registers each route contract (./tenants.routes.ts) with its handler
 * (./tenants.handlers.ts), after the scope middleware, in the order the paths must match.
 */
import { createRouter, registerRoutes } from "../../rest/openapi";
import { requirePlatformAdmin } from "../admin";
import * as handlers from "./tenants.handlers";
import * as routes from "./tenants.routes";

export const platformRouter = createRouter();
platformRouter.use("/platform/*", requirePlatformAdmin);
registerRoutes(platformRouter, routes, handlers, ["create", "list", "get", "update", "addDomain", "removeDomain", "issueAdminToken"]);
