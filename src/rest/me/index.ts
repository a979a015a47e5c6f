/**
 * The /v1/me router: registers the route contract (./me.routes.ts) with its handler
 * (./me.handlers.ts). No scope middleware: any valid token of the tenant may ask who it is.
 */
import { createRouter, registerRoutes } from "../openapi";
import * as handlers from "./me.handlers";
import * as routes from "./me.routes";

export const meRouter = createRouter();
registerRoutes(meRouter, routes, handlers, ["get"]);
