/**
 * Token authentication without a round trip of its own. The middleware checks the token's shape
 * and hashes it (no I/O), then hands the row lookup to the request's database gate
 * (core/request-db.ts), which sends it with the request's first read batch and verifies the row
 * before any data reaches the handler. Scope requirements declared before that moment are
 * checked at the same time; those declared after it are checked at once.
 *
 * Tokens are never cached: disabling one takes effect on the very next request.
 */
import { createMiddleware } from "hono/factory";
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../http/errors";
import { verifyPendingAuth } from "../core/request-db";
import { secretsEqual } from "../lib/crypto";
import { tokenDb } from "../shards/request";
import { authError, parseAuthorization, type AuthFailure } from "./token-errors";
import { diagnoseToken, hashToken, type AuthenticatedToken, type Scope } from "./tokens";

/** last_used_at is written at most this often per token, so reads stay reads. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** The whole row but the hash: GET /v1/me answers from it without a query of its own. */
const TOKEN_LOOKUP_SQL =
  "SELECT id, tenant_id, name, scopes, display_prefix, created_at, disabled_at, expires_at, last_used_at FROM api_tokens WHERE token_hash = ?";

/** Paths any valid token of the tenant may call, whatever its scopes (SCIM-only tokens too). */
const ANY_TOKEN_PATHS = new Set(["/v1/me"]);

/** The platform's own check (platform/admin.ts): undefined without a header, "" when it is not one bearer value. */
export function readBearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match ? match[1] : "";
}

/** A scope requirement: any one of `anyOf` satisfies it; otherwise `error` is the answer. */
interface ScopeDemand {
  anyOf: Scope[];
  error: () => ApiError;
}

interface TokenRow {
  id: string;
  tenant_id: string;
  name: string;
  scopes: string;
  display_prefix: string;
  created_at: number;
  disabled_at: number | null;
  expires_at: number | null;
  last_used_at: number | null;
}

/** The checks a token row must pass for this request, in the order their errors take precedence. */
function verifyToken(c: Context<AppEnv>, row: TokenRow | null, demands: ScopeDemand[]): AuthenticatedToken {
  const tenant = c.get("tenant");
  if (!row) throw authError({ reason: "unknown" });
  if (row.tenant_id !== tenant.id) throw authError({ reason: "other_tenant" });
  if (row.disabled_at !== null) throw authError({ reason: "disabled" });
  const now = (c.get("clock") ?? Date).now();
  if (row.expires_at !== null && row.expires_at <= now) throw authError({ reason: "expired", at: row.expires_at });
  const touch = row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS;
  const token: AuthenticatedToken = {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as Scope[],
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: touch ? now : row.last_used_at,
    prefix: row.display_prefix,
  };
  // The mirror of the SCIM endpoint's check: an identity provider's token belongs on /scim/v2.
  if (c.req.path.startsWith("/v1/") && !ANY_TOKEN_PATHS.has(c.req.path) && token.scopes.every((s) => s === "scim")) {
    throw new ApiError("insufficient_scope", "This is a SCIM-only token: it works on /scim/v2 only. Use a token with the users:read or users:write scope for /v1.", {
      extra: { requiredScope: "users:read" },
      headers: { "WWW-Authenticate": 'Bearer realm="api", error="insufficient_scope", scope="users:read users:write"' },
    });
  }
  for (const demand of demands) if (!demand.anyOf.some((s) => token.scopes.includes(s))) throw demand.error();
  if (touch) {
    // Off the critical path, on the raw binding: bookkeeping, not part of the request's work.
    const touch = tokenDb(c).prepare("UPDATE api_tokens SET last_used_at = ? WHERE id = ?").bind(now, row.id).run();
    c.executionCtx.waitUntil(touch.catch((err) => console.error("last_used_at update failed", String(err))));
  }
  return token;
}

/**
 * What is wrong with a bearer value that is not a well-formed token. The platform admin token is
 * recognised first (compared in constant time, like every secret) because it fails the token
 * checks for a reason they cannot name.
 */
async function refusedBearer(c: Context<AppEnv>, bearer: string): Promise<AuthFailure | null> {
  const problem = diagnoseToken(bearer);
  if (!problem) return null;
  const platformSecret = c.env.PLATFORM_ADMIN_TOKEN;
  if (platformSecret && (await secretsEqual(bearer, platformSecret))) return { reason: "platform_token" };
  return problem;
}

export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const parsed = parseAuthorization(c.req.header("Authorization"));
  if (parsed.kind === "failure") throw authError(parsed.failure);
  const bearer = parsed.value;
  const refused = await refusedBearer(c, bearer);
  if (refused) throw authError(refused);
  const hash = await hashToken(bearer);
  const demands: ScopeDemand[] = [];
  c.set("scopeDemands", demands);
  const gates = c.get("gates");
  gates.auth = {
    statement: tokenDb(c).prepare(TOKEN_LOOKUP_SQL).bind(hash),
    verify: (row) => c.set("token", verifyToken(c, row as TokenRow | null, demands)),
  };
  await next();
  // A response that never reached the database (a 400 for a bad body, a 404 route) still needs
  // the token checked: an unauthenticated caller gets the 401, not the 400.
  if (gates.auth) await verifyPendingAuth(gates);
});

/**
 * Requires one of `anyOf`. Before the token row is known the requirement waits for it (it is
 * checked with the row, in the first round trip); afterwards it is checked at once.
 */
export function demandScope(c: Context<AppEnv>, anyOf: Scope[], error: () => ApiError): void {
  const token = c.get("token") as AuthenticatedToken | undefined;
  if (token) {
    if (!anyOf.some((s) => token.scopes.includes(s))) throw error();
    return;
  }
  c.get("scopeDemands")?.push({ anyOf, error });
}

export function insufficientScope(scope: Scope, detail: string, realm = "api"): () => ApiError {
  return () =>
    new ApiError("insufficient_scope", detail, {
      extra: { requiredScope: scope },
      headers: { "WWW-Authenticate": `Bearer realm="${realm}", error="insufficient_scope", scope="${scope}"` },
    });
}

/** Requires `scope` for the rest of the request (from a handler). */
export function demandOneScope(c: Context<AppEnv>, scope: Scope, detail = `This operation needs a token with the '${scope}' scope.`, realm = "api"): void {
  demandScope(c, [scope], insufficientScope(scope, detail, realm));
}

export function requireScope(scope: Scope) {
  return createMiddleware<AppEnv>(async (c, next) => {
    demandOneScope(c, scope);
    await next();
  });
}

/**
 * Reference data (attributes, roles, identity providers): readable with `users:read` or `admin`,
 * changeable with `admin` only.
 */
export const adminWritesReadersRead = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method !== "GET") demandOneScope(c, "admin");
  else demandScope(c, ["users:read", "admin"], insufficientScope("users:read", "Reading this needs a token with the 'users:read' or 'admin' scope."));
  await next();
});
