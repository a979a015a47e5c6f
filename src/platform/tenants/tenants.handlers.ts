/**
 * Handlers for /platform/tenants, one per route contract in ./tenants.routes.ts and typed by it
 * (RouteHandler<typeof route, AppEnv>): they translate shapes; the rules live in the core.
 */
import { pagination } from "../../http/paging";
import { adminEvent } from "../../audit/admin-events";
import { tenantShardDbFor } from "../../shards/directory";
import { actorOf, bindActor } from "../../audit/actor";
import type { RouteHandler } from "@hono/zod-openapi";
import { and, asc, eq, gt } from "drizzle-orm";
import { FIRST_TOKEN_SCOPES } from "../../auth/tokens";
import { uniqueViolation } from "../../db/errors";
import { tenantDomains, tenants } from "../../db/schema";
import type { AppEnv, Db, Env } from "../../env";
import { decodeCursor, encodeCursor } from "../../http/cursor";
import { ApiError } from "../../http/errors";
import { uuidv7 } from "../../lib/ids";
import { effectiveLimits, readLimitConfig } from "../../limits/config";
import { createApiToken, newTokenRow } from "../../auth/api-token-service";
import { systemClock } from "../../core/context";
import { tenantShardDbs } from "../../shards/directory";
import { shardOf } from "../../shards/config";
import { forgetCachedHosts } from "../../tenancy/resolve";
import { placeTenant } from "../../shards/placement";
import { createOnShard, forgetTenant, tenantShardView } from "../../shards/tenant-view";
import type * as routes from "./tenants.routes";

const iso = (ms: number) => new Date(ms).toISOString();
type TenantRow = typeof tenants.$inferSelect;

function rateLimitsView(env: Env, row: TenantRow) {
  const config = readLimitConfig(env);
  return {
    enabled: config.enabled,
    ...effectiveLimits(config, row),
    overrides: { ipPerSecond: row.rateLimitIpPerSecond, tenantPerSecond: row.rateLimitTenantPerSecond },
  };
}

async function tenantView(db: Db, row: TenantRow, env: Env) {
  const domains = await db.select().from(tenantDomains).where(eq(tenantDomains.tenantId, row.id)).orderBy(asc(tenantDomains.hostname)).all();
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    suspended: row.suspended,
    rateLimits: rateLimitsView(env, row),
    domains: domains.map((d) => ({ hostname: d.hostname, createdAt: iso(d.createdAt) })),
    ...(await tenantShardView(db, env, row)),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

async function findTenant(db: Db, slugValue: string): Promise<TenantRow> {
  const row = await db.select().from(tenants).where(eq(tenants.slug, slugValue)).get();
  if (!row) throw new ApiError("not_found", `No tenant with slug '${slugValue}'.`);
  return row;
}

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const db = c.get("db");
  const now = Date.now();
  const shard = await placeTenant(db, c.env, body);
  const row: TenantRow = {
    id: uuidv7(now),
    slug: body.slug,
    name: body.name,
    suspended: false,
    createdAt: now,
    updatedAt: now,
    rateLimitIpPerSecond: null,
    rateLimitTenantPerSecond: null,
    shard: shard.name,
    eventRetentionDays: null,
  };
  const token = await newTokenRow(row.id, "First admin token", FIRST_TOKEN_SCOPES);
  try {
    // The directory row first: the slug's uniqueness is decided on the platform database.
    await db.insert(tenants).values(row).run();
  } catch (err) {
    if (uniqueViolation(err)?.includes("tenants.slug")) {
      throw new ApiError("conflict", `The slug '${body.slug}' is taken.`, { errors: [{ path: "slug", message: "is taken" }] });
    }
    throw err;
  }
  try {
    // The tenant's rows on its shard (copy of the tenant row + first token); undone on failure.
    await createOnShard(c.env, shard, row, token.row, { view: token.view, actor: actorOf(db) });
  } catch (err) {
    await forgetTenant(db, row.id);
    throw err;
  }
  forgetCachedHosts();
  c.header("Location", `/platform/tenants/${row.slug}`);
  c.header("Cache-Control", "no-store");
  return c.json({ tenant: await tenantView(db, row, c.env), token: token.secret }, 201);
};

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const { limit = 100, cursor } = c.req.valid("query");
  const db = c.get("db");
  const after = cursor ? String(decodeCursor(cursor, "slug", 1)[0]) : undefined;
  const rows = await db.select().from(tenants).where(after ? gt(tenants.slug, after) : undefined).orderBy(asc(tenants.slug)).limit(limit + 1).all();
  const page = rows.slice(0, limit);
  const nextCursor = rows.length > limit ? encodeCursor({ o: "slug", k: [page[page.length - 1]!.slug] }) : null;
  return c.json({ data: await Promise.all(page.map((r) => tenantView(db, r, c.env))), pagination: pagination(c, { limit, hasMore: nextCursor !== null, nextCursor }) }, 200);
};

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => {
  const db = c.get("db");
  return c.json(await tenantView(db, await findTenant(db, c.req.valid("param").slug), c.env), 200);
};

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) => {
  const db = c.get("db");
  const body = c.req.valid("json");
  const row = await findTenant(db, c.req.valid("param").slug);
  const limits = body.rateLimits ?? {};
  const next: TenantRow = {
    ...row,
    name: body.name ?? row.name,
    suspended: body.suspended ?? row.suspended,
    rateLimitIpPerSecond: limits.ipPerSecond === undefined ? row.rateLimitIpPerSecond : limits.ipPerSecond,
    rateLimitTenantPerSecond: limits.tenantPerSecond === undefined ? row.rateLimitTenantPerSecond : limits.tenantPerSecond,
    eventRetentionDays: body.eventRetentionDays === undefined ? row.eventRetentionDays : body.eventRetentionDays,
    updatedAt: Date.now(),
  };
  await db
    .update(tenants)
    .set({
      name: next.name,
      suspended: next.suspended,
      rateLimitIpPerSecond: next.rateLimitIpPerSecond,
      rateLimitTenantPerSecond: next.rateLimitTenantPerSecond,
      eventRetentionDays: next.eventRetentionDays,
      updatedAt: next.updatedAt,
    })
    .where(eq(tenants.id, row.id))
    .run();
  // Tenant settings changed: recorded in the tenant's own feed (on its shard), as the platform.
  const changes = Object.fromEntries(
    (["name", "suspended", "rateLimitIpPerSecond", "rateLimitTenantPerSecond", "eventRetentionDays"] as const).filter((k) => next[k] !== row[k]).map((k) => [k, next[k]]),
  );
  if (Object.keys(changes).length > 0) {
    await adminEvent({ db: bindActor(tenantShardDbFor(c.env, row), actorOf(db)), tenantId: row.id }, "tenant.updated", row.id, { changes }, next.updatedAt).run();
  }
  forgetCachedHosts();
  return c.json(await tenantView(db, next, c.env), 200);
};

export const addDomain: RouteHandler<typeof routes.addDomain, AppEnv> = async (c) => {
  const db = c.get("db");
  const { hostname } = c.req.valid("json");
  const row = await findTenant(db, c.req.valid("param").slug);
  const base = c.env.BASE_DOMAIN.toLowerCase();
  if (hostname === base || hostname.endsWith(`.${base}`)) {
    throw new ApiError("conflict", `Hostnames under ${base} are tenant subdomains already; map a domain you own instead.`, { errors: [{ path: "hostname", message: `must not be under ${base}` }] });
  }
  try {
    await db.insert(tenantDomains).values({ hostname, tenantId: row.id, createdAt: Date.now() }).run();
  } catch (err) {
    if (uniqueViolation(err)) {
      throw new ApiError("conflict", `The hostname '${hostname}' is already mapped to a tenant.`, { errors: [{ path: "hostname", message: "is already mapped" }] });
    }
    throw err;
  }
  forgetCachedHosts();
  c.header("Location", `/platform/tenants/${row.slug}/domains/${hostname}`);
  return c.json(await tenantView(db, row, c.env), 201);
};

export const removeDomain: RouteHandler<typeof routes.removeDomain, AppEnv> = async (c) => {
  const db = c.get("db");
  const { slug: s, hostname } = c.req.valid("param");
  const row = await findTenant(db, s);
  const deleted = await db
    .delete(tenantDomains)
    .where(and(eq(tenantDomains.tenantId, row.id), eq(tenantDomains.hostname, hostname.toLowerCase())))
    .returning({ hostname: tenantDomains.hostname })
    .all();
  if (deleted.length === 0) throw new ApiError("not_found", `The hostname '${hostname}' is not mapped to tenant '${row.slug}'.`);
  forgetCachedHosts();
  return c.body(null, 204);
};

/** Recovery: a new admin token for a tenant that lost its own, written and audited on the tenant's shard. */
export const issueAdminToken: RouteHandler<typeof routes.issueAdminToken, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const db = c.get("db");
  const row = await findTenant(db, c.req.valid("param").slug);
  // Through the move fence: a token written to a shard the tenant is leaving would be lost.
  const shard = await tenantShardDbs(c.env, row.id, shardOf(c.env, row).name);
  const ctx = { db: bindActor(shard.db, actorOf(db)), tenantId: row.id, clock: c.get("clock") ?? systemClock };
  const created = await createApiToken(ctx, {
    name: body.name ?? "Recovery admin token",
    scopes: FIRST_TOKEN_SCOPES,
    expiresAt: body.expiresAt ? Date.parse(body.expiresAt) : null,
  });
  // The token lives on the tenant's host: <slug>.<apex host, port included>.
  const apex = new URL(c.req.url);
  c.header("Location", `${apex.protocol}//${row.slug}.${apex.host}/v1/api-tokens/${created.apiToken.id}`);
  c.header("Cache-Control", "no-store");
  return c.json({ tenant: { id: row.id, slug: row.slug, name: row.name }, ...created }, 201);
};
