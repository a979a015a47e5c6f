/**
 * The collections router: for each kind (groups, campaigns, access groups, organizations) the
 * scope middleware, then each route contract (./collections.routes.ts) with its handler
 * (./collections.handlers.ts), in the order the paths must match.
 */
import type { Context } from "hono";
import { requireScope } from "../../auth/middleware";
import type { AppEnv } from "../../env";
import { KINDS } from "../../memberships/kinds";
import { createRouter, registerRoutes } from "../openapi";
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
  registerRoutes(collectionsRouter, routes, handlers, ["list", "create", "get", "update", "remove", "listMembers", "addMembers", "removeMembers"]);
}
