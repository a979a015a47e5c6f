/**
 * `/platform/tenants/{slug}/console-links`: the operator's way into a tenant's admin console (a
 * one-time sign-in URL valid 15 minutes), and `/console-sessions` to revoke every console session
 * of a tenant (link sessions have no token behind them; this is their owner's off switch).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { systemClock } from "../core/context";
import { endTenantSessions, issueLink } from "../console/sessions";
import { tenants } from "../db/schema";
import type { Db } from "../env";
import { ApiError } from "../http/errors";
import { createRouter, jsonContent, problemResponse } from "../rest/openapi";
import { requirePlatformAdmin } from "./admin";
import { tenantShardDbFor } from "../shards/directory";
import { IdempotencyKeyHeader, idempotencyResponses, idempotent } from "../rest/idempotency";

const SlugParam = z.object({ slug: z.string().max(63) });
const errors = {
  401: problemResponse("Missing or wrong platform admin token."),
  403: problemResponse("The platform API is disabled (no PLATFORM_ADMIN_TOKEN configured)."),
  404: problemResponse("No such tenant."),
  409: problemResponse("The tenant is suspended."),
  429: problemResponse("Rate limit exceeded."),
} as const;
const tags = ["Platform"];
const security = [{ platformAdmin: [] }];

async function findTenant(db: Db, slug: string) {
  const row = await db.select().from(tenants).where(eq(tenants.slug, slug)).get();
  if (!row) throw new ApiError("not_found", `No tenant with slug '${slug}'.`);
  return row;
}

export const consoleLinksRouter = createRouter();
consoleLinksRouter.use("/platform/tenants/:slug/console-links", requirePlatformAdmin);
consoleLinksRouter.use("/platform/tenants/:slug/console-sessions", requirePlatformAdmin);

consoleLinksRouter.openapi(
  createRoute({
    method: "post",
    path: "/platform/tenants/{slug}/console-links",
    tags,
    security,
    summary: "Issue a one-time sign-in link to a tenant's admin console",
    description:
      "The URL opens the console on the tenant's host; it works once, within 15 minutes. The session it starts acts as a tenant admin for at most 12 hours. " +
      "Only a hash of the link's secret is stored." +
      " With `Idempotency-Key`, the link is never stored: a retry with the same key answers 409 `secret_not_replayed` (links are single-use and short-lived: issue another with a new key).",
    request: { headers: IdempotencyKeyHeader, params: SlugParam },
    middleware: [idempotent({ secret: "the sign-in link" })],
    responses: {
      ...idempotencyResponses,
      201: jsonContent(z.object({ url: z.string(), expiresAt: z.string() }).openapi("ConsoleLink"), "The sign-in URL; hand it to the tenant's admin over a private channel."),
      ...errors,
    },
  }),
  async (c) => {
    const db = c.get("db");
    const tenant = await findTenant(db, c.req.valid("param").slug);
    if (tenant.suspended) throw new ApiError("conflict", `Tenant '${tenant.slug}' is suspended; reinstate it first.`);
    // Console links and sessions are tenant data: they live on the tenant's shard.
    const { secret, expiresAt } = await issueLink(tenantShardDbFor(c.env, tenant), tenant.id, (c.get("clock") ?? systemClock).now());
    // The tenant's host, reached the way this request reached the apex (scheme and port kept for local dev).
    const apex = new URL(c.req.url);
    const url = `${apex.protocol}//${tenant.slug}.${c.env.BASE_DOMAIN}${apex.port ? `:${apex.port}` : ""}/console/link?secret=${secret}`;
    c.header("Cache-Control", "no-store");
    return c.json({ url, expiresAt: new Date(expiresAt).toISOString() }, 201);
  },
);

consoleLinksRouter.openapi(
  createRoute({
    method: "delete",
    path: "/platform/tenants/{slug}/console-sessions",
    tags,
    security,
    summary: "Sign everyone out of a tenant's admin console",
    request: { params: SlugParam },
    responses: { 200: jsonContent(z.object({ revoked: z.number().int() }), "The number of sessions ended."), ...errors },
  }),
  async (c) => {
    const db = c.get("db");
    const tenant = await findTenant(db, c.req.valid("param").slug);
    return c.json({ revoked: await endTenantSessions(tenantShardDbFor(c.env, tenant), tenant.id) }, 200);
  },
);
