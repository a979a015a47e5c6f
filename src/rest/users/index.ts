/**
 * The /v1/users router: registers each route contract (./users.routes.ts) with its handler
 * (./users.handlers.ts), after the scope middleware, in the order the paths must match.
 */
import { requireScope } from "../../auth/middleware";
import { createRouter, registerRoutes } from "../openapi";
import * as handlers from "./users.handlers";
import * as routes from "./users.routes";

export const usersRouter = createRouter();

/** Routes that check scopes of their own, because the platform's sign-in (`auth`) calls them too. */
const SELF_SCOPED = /^\/v1\/users\/[^/]+\/(password\/verify|activity|devices\/[^/]+\/seen)$/;

// Hono's "/x/*" also matches "/x", so this one guard covers the collection and its items.
usersRouter.use("/v1/users/*", async (c, next) => {
  if (c.req.method === "POST" && SELF_SCOPED.test(c.req.path)) return next();
  const isRead = c.req.method === "GET" || (c.req.method === "POST" && c.req.path === "/v1/users/search");
  return requireScope(isRead ? "users:read" : "users:write")(c, next);
});
const { hooks, ...routeHandlers } = handlers;
// create and update answer a body that fails its schema through the core (rest/user-body.ts).
usersRouter.openapi(routes.create, routeHandlers.create, hooks.create);
registerRoutes(usersRouter, routes, routeHandlers, ["list", "search", "get"]);
usersRouter.openapi(routes.update, routeHandlers.update, hooks.update);
registerRoutes(usersRouter, routes, routeHandlers, ["remove"]);
