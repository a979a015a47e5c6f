/**
 * The /v1/api-tokens router: registers each route contract (./api-tokens.routes.ts) with its handler
 * (./api-tokens.handlers.ts), after the scope middleware, in the order the paths must match.
 */
import { requireScope } from "../../auth/middleware";
import { createRouter, registerRoutes } from "../openapi";
import * as handlers from "./api-tokens.handlers";
import * as routes from "./api-tokens.routes";

export const apiTokensRouter = createRouter();
apiTokensRouter.use("/v1/api-tokens/*", requireScope("admin"));
registerRoutes(apiTokensRouter, routes, handlers, ["create", "list", "get", "disable"]);
