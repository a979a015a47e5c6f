/**
 * The collections router: for each kind (groups, campaigns, access groups, organizations) the
 * scope middleware, then each route contract (./collections.routes.ts) with its handler
 * (./collections.handlers.ts), in the order the paths must match.
 */
import type { Context } from "hono";
import { requireScope } from "../../auth/middleware";
import type { AppEnv } from "../../env";
import { KINDS } from "../../memberships/kinds";
import { createRouter } from "../openapi";
import { collectionHandlers } from "./collections.handlers";
import { collectionRoutes } from "./collections.routes";

export const collectionsRouter = createRouter();

for (const k of KINDS) {
  const base = `/v1/${k.segment}`;
  const scope = (c: Context<AppEnv>, next: () => Promise<void>) => requireScope(c.req.method === "GET" ? "users:read" : "users:write")(c, next);
  collectionsRouter.use(base, scope);
  collectionsRouter.use(`${base}/*`, scope);
  const routes = collectionRoutes(k);
  const handlers = collectionHandlers(k);
  collectionsRouter.openapi(routes.list, handlers.list);
  collectionsRouter.openapi(routes.create, handlers.create);
  collectionsRouter.openapi(routes.get, handlers.get);
  collectionsRouter.openapi(routes.update, handlers.update);
  collectionsRouter.openapi(routes.remove, handlers.remove);
  collectionsRouter.openapi(routes.listMembers, handlers.listMembers);
  collectionsRouter.openapi(routes.addMembers, handlers.addMembers);
  collectionsRouter.openapi(routes.removeMembers, handlers.removeMembers);
}
