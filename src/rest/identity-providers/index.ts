/**
 * The /v1/identity-providers router: registers each route contract (./identity-providers.routes.ts) with its handler
 * (./identity-providers.handlers.ts), after the scope middleware, in the order the paths must match.
 */
import { adminWritesReadersRead } from "../../auth/middleware";
import { createRouter, registerRoutes } from "../openapi";
import * as handlers from "./identity-providers.handlers";
import * as routes from "./identity-providers.routes";

export const identityProvidersRouter = createRouter();
identityProvidersRouter.use("/v1/identity-providers/*", adminWritesReadersRead);
registerRoutes(identityProvidersRouter, routes, handlers, ["list", "create", "get", "update", "remove"]);
