/**
 * Handler for GET /v1/me, typed by its contract in ./me.routes.ts. The token check reads the whole
 * token row (auth/middleware.ts) and the tenant is known from the host, so the answer is built
 * from what the request already has: its one round trip is the token lookup itself.
 */
import type { RouteHandler } from "@hono/zod-openapi";
import { verifyPendingAuth } from "../../core/request-db";
import type { AppEnv } from "../../env";
import type * as routes from "./me.routes";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => {
  await verifyPendingAuth(c.get("gates"));
  const token = c.get("token");
  const tenant = c.get("tenant");
  c.header("Cache-Control", "no-store");
  return c.json(
    {
      tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
      token: {
        id: token.id,
        name: token.name,
        scopes: token.scopes,
        prefix: token.prefix,
        createdAt: iso(token.createdAt)!,
        expiresAt: iso(token.expiresAt),
        lastUsedAt: iso(token.lastUsedAt),
      },
    },
    200,
  );
};
