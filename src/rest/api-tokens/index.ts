/**
 * The /v1/api-tokens router: registers each route contract (./api-tokens.routes.ts) with its handler
 * (./api-tokens.handlers.ts), after the scope middleware, in the order the paths must match.
 */
import { requireScope } from "../../auth/middleware";
import { createRouter } from "../openapi";
import * as handlers from "./api-tokens.handlers";
import * as routes from "./api-tokens.routes";

export const apiTokensRouter = createRouter();
apiTokensRouter.use("/v1/api-tokens/*", requireScope("admin"));
apiTokensRouter.openapi(routes.create, handlers.create);
apiTokensRouter.openapi(routes.list, handlers.list);
apiTokensRouter.openapi(routes.get, handlers.get);
apiTokensRouter.openapi(routes.disable, handlers.disable);
