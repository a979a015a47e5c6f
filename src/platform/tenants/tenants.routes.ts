/**
 * Route contracts for /platform/tenants: paths, methods, request and response schemas, summaries.
 * They make the OpenAPI document; the handlers that answer them are in ./tenants.handlers.ts.
 */
import { pageOf } from "../../http/paging";
import { intQuery } from "../../http/query";
import { createRoute, z } from "@hono/zod-openapi";
import { MAX_PER_SECOND } from "../../limits/config";
import { bodyErrorResponses, jsonBodyOf, jsonContent, problemResponse } from "../../rest/openapi";
import { CreatedTokenSchema, TokenCreateSchema } from "../../rest/api-tokens/api-tokens.routes";
import { FIRST_TOKEN_SCOPES } from "../../auth/tokens";
import { HOSTNAME_RE, SLUG_RE } from "../../tenancy/resolve";
import { placementFields, retentionField, tenantShardFields } from "../../shards/tenant-view";
import { IdempotencyKeyHeader, idempotencyResponses, idempotent, SECRET_REPLAY_NOTE } from "../../rest/idempotency";

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
    ...tenantShardFields,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Tenant");

/** Labels that name the service itself or read as addresses, never a tenant's subdomain. */
const RESERVED_SLUGS = new Set(["www", "api", "app", "admin", "platform", "console", "docs", "scim", "status", "mail", "localhost", "static", "cdn", "auth", "login"]);
function isReservedSlug(value: string): boolean {
  return RESERVED_SLUGS.has(value) || /^[0-9]+$/.test(value);
}

const slug = z
  .string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") })
  .regex(SLUG_RE, "must be a DNS label: 1-63 lowercase letters, digits or hyphens, not starting or ending with a hyphen")
  .refine((s) => !isReservedSlug(s), "is reserved (service hostnames such as www, api and platform, and all-digit labels); choose another")
  .openapi({ example: "acme" });
const name = z.string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") }).trim().min(1, "must not be empty").max(200);

const TenantCreateSchema = z.strictObject({ slug, name: name.openapi({ example: "Acme Corp" }), ...placementFields }).openapi("TenantCreate");
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
  .strictObject({ name: name.optional(), suspended: z.boolean().optional(), rateLimits: RateLimitsPatchSchema.optional(), ...retentionField })
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

const tags = ["Platform"];
const security = [{ platformAdmin: [] }];

export const create = createRoute({
  method: "post",
  path: "/platform/tenants",
  tags,
  security,
  summary: "Create a tenant (and its first admin token)",
  description: "The tenant is reachable at <slug>.<BASE_DOMAIN> at once. `token` is shown only in this response." + SECRET_REPLAY_NOTE,
  request: { headers: IdempotencyKeyHeader, body: jsonBodyOf(TenantCreateSchema) },
  middleware: [idempotent({ secret: "the tenant's first API token" })],
  responses: {
    ...idempotencyResponses,
    201: jsonContent(z.object({ tenant: TenantSchema, token: z.string() }), "Created."),
    ...platformErrors,
    409: problemResponse("The slug is taken."),
    ...bodyErrorResponses,
  },
});

export const list = createRoute({
  method: "get",
  path: "/platform/tenants",
  tags,
  security,
  summary: "List tenants",
  request: { query: z.object({ limit: intQuery(1, 1000).optional(), cursor: z.string().max(512).optional() }) },
  responses: {
    200: jsonContent(pageOf(TenantSchema), "A page of tenants by slug."),
    ...platformErrors,
  },
});

export const get = createRoute({
  method: "get",
  path: "/platform/tenants/{slug}",
  tags,
  security,
  summary: "Get a tenant",
  request: { params: SlugParam },
  responses: { 200: jsonContent(TenantSchema, "The tenant."), ...platformErrors },
});

export const update = createRoute({
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
});

export const addDomain = createRoute({
  method: "post",
  path: "/platform/tenants/{slug}/domains",
  tags,
  security,
  summary: "Map a custom domain to a tenant",
  description: "Point the hostname at the Worker (Cloudflare for SaaS custom hostname) as described in the README.",
  request: { headers: IdempotencyKeyHeader, params: SlugParam, body: jsonBodyOf(DomainCreateSchema) },
  middleware: [idempotent()],
  responses: {
    ...idempotencyResponses,
    201: jsonContent(TenantSchema, "The tenant with its domains."),
    ...platformErrors,
    409: problemResponse("The hostname is already mapped, or is under the base domain."),
    ...bodyErrorResponses,
  },
});

export const removeDomain = createRoute({
  method: "delete",
  path: "/platform/tenants/{slug}/domains/{hostname}",
  tags,
  security,
  summary: "Unmap a custom domain",
  request: { params: DomainParam },
  responses: { 204: { description: "Unmapped." }, ...platformErrors },
});

/** The name and expiry rules of POST /v1/api-tokens; the scopes are fixed (a first token's). */
const AdminTokenIssueSchema = TokenCreateSchema.pick({ name: true, expiresAt: true }).partial().openapi("AdminTokenIssue");

export const issueAdminToken = createRoute({
  method: "post",
  path: "/platform/tenants/{slug}/admin-tokens",
  tags,
  security,
  summary: "Issue a new admin token for a tenant (recovery)",
  description:
    `For a tenant whose admin tokens were lost: a new token with the scopes of a tenant's first token (${FIRST_TOKEN_SCOPES.join(", ")}). ` +
    "Existing tokens keep working; disable them with DELETE /v1/api-tokens/{id} using the new one. The body is optional " +
    '(`name` defaults to "Recovery admin token"; no `expiresAt`: the token never expires). `token` is shown only in this response; ' +
    "the issue is recorded in the tenant's audit trail as api_token.created by the platform. `Location` is the token on the tenant's host.",
  request: { params: SlugParam, body: { ...jsonBodyOf(AdminTokenIssueSchema), required: false } },
  responses: {
    201: jsonContent(CreatedTokenSchema.extend({ tenant: z.object({ id: z.string(), slug: z.string(), name: z.string() }) }), "Issued; `token` is the secret."),
    ...platformErrors,
    ...bodyErrorResponses,
  },
});
