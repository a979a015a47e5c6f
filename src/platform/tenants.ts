/**
 * `/platform` on the apex host: the operator's API for tenants and their custom domains,
 * authorised by the PLATFORM_ADMIN_TOKEN secret (compared in constant time).
 */
import { adminEvent } from "../audit/admin-events";
import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, eq, gt } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { readBearer } from "../auth/middleware";
import { FIRST_TOKEN_SCOPES } from "../auth/tokens";
import { uniqueViolation } from "../db/errors";
import { apiTokens, tenantDomains, tenants } from "../db/schema";
import type { AppEnv, Db, Env } from "../env";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { ApiError } from "../http/errors";
import { secretsEqual } from "../lib/crypto";
import { effectiveLimits, MAX_PER_SECOND, readLimitConfig } from "../limits/config";
import { uuidv7 } from "../lib/ids";
import { newTokenRow } from "../rest/api-tokens";
import { bodyErrorResponses, createRouter, jsonBodyOf, jsonContent, problemResponse } from "../rest/openapi";
import { forgetCachedHosts, HOSTNAME_RE, SLUG_RE } from "../tenancy/resolve";

const DomainSchema = z.object({ hostname: z.string(), createdAt: z.string() }).openapi("TenantDomain");

const RateLimitsSchema = z
  .object({
    enabled: z.boolean().openapi({ description: "false when RATE_LIMIT_ENABLED switches limiting off." }),
    ipPerSecond: z.number().int().openapi({ description: "Effective requests per second per client IP on this tenant's hosts." }),
    tenantPerSecond: z.number().int().openapi({ description: "Effective requests per second for the tenant, across all IPs." }),
    overrides: z.object({ ipPerSecond: z.number().int().nullable(), tenantPerSecond: z.number().int().nullable() }).openapi({
      description: "This tenant's own settings; null means the platform default applies.",
    }),
  })
  .openapi("TenantRateLimits");

const TenantSchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    suspended: z.boolean(),
    rateLimits: RateLimitsSchema,
    domains: z.array(DomainSchema),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Tenant");

const slug = z
  .string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") })
  .regex(SLUG_RE, "must be a DNS label: 1-63 lowercase letters, digits or hyphens, not starting or ending with a hyphen")
  .openapi({ example: "acme" });
const name = z.string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") }).trim().min(1, "must not be empty").max(200);

const TenantCreateSchema = z.strictObject({ slug, name: name.openapi({ example: "Acme Corp" }) }).openapi("TenantCreate");
const perSecond = z
  .number({ error: "must be a whole number of requests per second, or null for the platform default" })
  .int("must be a whole number of requests per second")
  .min(1, "must be at least 1")
  .max(MAX_PER_SECOND, `must be at most ${MAX_PER_SECOND}`)
  .nullable();
const RateLimitsPatchSchema = z
  .strictObject({
    ipPerSecond: perSecond.optional().openapi({ description: "Requests per second per client IP on this tenant's hosts; null restores the default." }),
    tenantPerSecond: perSecond.optional().openapi({ description: "Requests per second for the whole tenant; null restores the default." }),
  })
  .openapi("TenantRateLimitsPatch");
const TenantPatchSchema = z
  .strictObject({ name: name.optional(), suspended: z.boolean().optional(), rateLimits: RateLimitsPatchSchema.optional() })
  .openapi("TenantPatch");
const DomainCreateSchema = z
  .strictObject({
    hostname: z
      .string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") })
      .transform((h) => h.trim().toLowerCase().replace(/\.$/, ""))
      .pipe(z.string().regex(HOSTNAME_RE, "must be a hostname such as users.acme.com (no scheme, port or path)")),
  })
  .openapi("TenantDomainCreate");

const SlugParam = z.object({ slug: z.string().max(63) });
const DomainParam = z.object({ slug: z.string().max(63), hostname: z.string().max(253) });

const platformErrors = {
  400: problemResponse("The request is not valid."),
  401: problemResponse("Missing or wrong platform admin token."),
  403: problemResponse("The platform API is disabled (no PLATFORM_ADMIN_TOKEN configured)."),
  404: problemResponse("No such tenant or domain."),
  429: problemResponse("Rate limit exceeded (the platform API counts against the per-IP limit)."),
} as const;

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
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

async function findTenant(db: Db, slugValue: string): Promise<TenantRow> {
  const row = await db.select().from(tenants).where(eq(tenants.slug, slugValue)).get();
  if (!row) throw new ApiError("not_found", `No tenant with slug '${slugValue}'.`);
  return row;
}

export const requirePlatformAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const secret = c.env.PLATFORM_ADMIN_TOKEN;
  if (!secret) {
    throw new ApiError("platform_disabled", "The platform API is disabled: set the PLATFORM_ADMIN_TOKEN secret (in .dev.vars locally, `wrangler secret put` in production).");
  }
  const bearer = readBearer(c.req.header("Authorization"));
  if (!bearer) {
    throw new ApiError("missing_token", "Send the platform admin token as 'Authorization: Bearer <PLATFORM_ADMIN_TOKEN>'.", { headers: { "WWW-Authenticate": 'Bearer realm="platform"' } });
  }
  if (!(await secretsEqual(bearer, secret))) {
    throw new ApiError("unknown_token", "This is not the platform admin token.", { headers: { "WWW-Authenticate": 'Bearer realm="platform", error="invalid_token"' } });
  }
  await next();
});

const tags = ["Platform"];
const security = [{ platformAdmin: [] }];

export const platformRouter = createRouter();
platformRouter.use("/platform/*", requirePlatformAdmin);

platformRouter.openapi(
  createRoute({
    method: "post",
    path: "/platform/tenants",
    tags,
    security,
    summary: "Create a tenant (and its first admin token)",
    description: "The tenant is reachable at <slug>.<BASE_DOMAIN> at once. `token` is shown only in this response.",
    request: { body: jsonBodyOf(TenantCreateSchema) },
    responses: {
      201: jsonContent(z.object({ tenant: TenantSchema, token: z.string() }), "Created."),
      ...platformErrors,
      409: problemResponse("The slug is taken."),
      ...bodyErrorResponses,
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const db = c.get("db");
    const now = Date.now();
    const row: TenantRow = {
      id: uuidv7(now),
      slug: body.slug,
      name: body.name,
      suspended: false,
      createdAt: now,
      updatedAt: now,
      rateLimitIpPerSecond: null,
      rateLimitTenantPerSecond: null,
    };
    const token = await newTokenRow(row.id, "First admin token", FIRST_TOKEN_SCOPES);
    try {
      await db.batch([db.insert(tenants).values(row), db.insert(apiTokens).values(token.row), adminEvent(db, row.id, "api_token.created", token.row.id, { apiToken: token.view }, now)]);
    } catch (err) {
      if (uniqueViolation(err)?.includes("tenants.slug")) {
        throw new ApiError("conflict", `The slug '${body.slug}' is taken.`, { errors: [{ path: "slug", message: "is taken" }] });
      }
      throw err;
    }
    forgetCachedHosts();
    c.header("Location", `/platform/tenants/${row.slug}`);
    c.header("Cache-Control", "no-store");
    return c.json({ tenant: await tenantView(db, row, c.env), token: token.secret }, 201);
  },
);

platformRouter.openapi(
  createRoute({
    method: "get",
    path: "/platform/tenants",
    tags,
    security,
    summary: "List tenants",
    request: { query: z.object({ limit: z.coerce.number().int().min(1).max(1000).optional(), cursor: z.string().max(512).optional() }) },
    responses: {
      200: jsonContent(z.object({ data: z.array(TenantSchema), pagination: z.object({ limit: z.number(), nextCursor: z.string().nullable() }) }), "A page of tenants by slug."),
      ...platformErrors,
    },
  }),
  async (c) => {
    const { limit = 100, cursor } = c.req.valid("query");
    const db = c.get("db");
    const after = cursor ? String(decodeCursor(cursor, "slug", 1)[0]) : undefined;
    const rows = await db.select().from(tenants).where(after ? gt(tenants.slug, after) : undefined).orderBy(asc(tenants.slug)).limit(limit + 1).all();
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? encodeCursor({ o: "slug", k: [page[page.length - 1]!.slug] }) : null;
    return c.json({ data: await Promise.all(page.map((r) => tenantView(db, r, c.env))), pagination: { limit, nextCursor } }, 200);
  },
);

platformRouter.openapi(
  createRoute({
    method: "get",
    path: "/platform/tenants/{slug}",
    tags,
    security,
    summary: "Get a tenant",
    request: { params: SlugParam },
    responses: { 200: jsonContent(TenantSchema, "The tenant."), ...platformErrors },
  }),
  async (c) => {
    const db = c.get("db");
    return c.json(await tenantView(db, await findTenant(db, c.req.valid("param").slug), c.env), 200);
  },
);

platformRouter.openapi(
  createRoute({
    method: "patch",
    path: "/platform/tenants/{slug}",
    tags,
    security,
    summary: "Rename, suspend or reinstate a tenant, or set its rate limits",
    description:
      "A suspended tenant's hosts answer 403 within seconds (the per-isolate cache lifetime). " +
      "`rateLimits` overrides the platform defaults for this tenant (null restores a default); the change also takes effect within that cache lifetime.",
    request: { params: SlugParam, body: jsonBodyOf(TenantPatchSchema) },
    responses: { 200: jsonContent(TenantSchema, "The updated tenant."), ...platformErrors, ...bodyErrorResponses },
  }),
  async (c) => {
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
      updatedAt: Date.now(),
    };
    const changes = Object.fromEntries(
      (["name", "suspended", "rateLimitIpPerSecond", "rateLimitTenantPerSecond"] as const).filter((k) => next[k] !== row[k]).map((k) => [k, next[k]]),
    );
    await db.batch([
      db
        .update(tenants)
        .set({
          name: next.name,
          suspended: next.suspended,
          rateLimitIpPerSecond: next.rateLimitIpPerSecond,
          rateLimitTenantPerSecond: next.rateLimitTenantPerSecond,
          updatedAt: next.updatedAt,
        })
        .where(eq(tenants.id, row.id)),
      adminEvent(db, row.id, "tenant.updated", row.id, { changes }, next.updatedAt),
    ]);
    forgetCachedHosts();
    return c.json(await tenantView(db, next, c.env), 200);
  },
);

platformRouter.openapi(
  createRoute({
    method: "post",
    path: "/platform/tenants/{slug}/domains",
    tags,
    security,
    summary: "Map a custom domain to a tenant",
    description: "Point the hostname at the Worker (Cloudflare for SaaS custom hostname) as described in the README.",
    request: { params: SlugParam, body: jsonBodyOf(DomainCreateSchema) },
    responses: {
      201: jsonContent(TenantSchema, "The tenant with its domains."),
      ...platformErrors,
      409: problemResponse("The hostname is already mapped, or is under the base domain."),
      ...bodyErrorResponses,
    },
  }),
  async (c) => {
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
  },
);

platformRouter.openapi(
  createRoute({
    method: "delete",
    path: "/platform/tenants/{slug}/domains/{hostname}",
    tags,
    security,
    summary: "Unmap a custom domain",
    request: { params: DomainParam },
    responses: { 204: { description: "Unmapped." }, ...platformErrors },
  }),
  async (c) => {
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
  },
);
