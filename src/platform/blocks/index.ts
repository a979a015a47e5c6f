/**
 * The /platform/blocks router: registers each route contract (./blocks.routes.ts) with its handler
 * (./blocks.handlers.ts), after the scope middleware, in the order the paths must match.
 */
import { createRouter, registerRoutes } from "../../rest/openapi";
import { requirePlatformAdmin } from "../admin";
import * as handlers from "./blocks.handlers";
import * as routes from "./blocks.routes";

export const blocksRouter = createRouter();
blocksRouter.use("/platform/blocks", requirePlatformAdmin);
blocksRouter.use("/platform/blocks/*", requirePlatformAdmin);
registerRoutes(blocksRouter, routes, handlers, ["list", "lift"]);
