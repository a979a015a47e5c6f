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
import { tokenDb } from "../shards/request";
import { hashToken, isWellFormedToken, type AuthenticatedToken, type Scope } from "./tokens";

/** last_used_at is written at most this often per token, so reads stay reads. */
const LAST_USED_RESOLUTION_MS = 60_000;

const TOKEN_LOOKUP_SQL = "SELECT id, tenant_id, name, scopes, disabled_at, expires_at, last_used_at FROM api_tokens WHERE token_hash = ?";

function challenge(error: string, description: string): Record<string, string> {
  return {
    "WWW-Authenticate": `Bearer realm="api", error="${error}", error_description="${description}"`,
  };
}

function unauthorized(code: ConstructorParameters<typeof ApiError>[0], detail: string): ApiError {
  return new ApiError(code, detail, { headers: challenge("invalid_token", detail) });
}

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
  disabled_at: number | null;
  expires_at: number | null;
  last_used_at: number | null;
}

/** The checks a token row must pass for this request, in the order their errors take precedence. */
function verifyToken(c: Context<AppEnv>, row: TokenRow | null, demands: ScopeDemand[]): AuthenticatedToken {
  const tenant = c.get("tenant");
  if (!row) throw unauthorized("unknown_token", "This API token does not exist.");
  if (row.tenant_id !== tenant.id) {
    throw unauthorized("wrong_tenant_token", "This API token belongs to another tenant; use it on that tenant's host.");
  }
  if (row.disabled_at !== null) throw unauthorized("disabled_token", "This API token has been disabled by an admin.");
  const now = (c.get("clock") ?? Date).now();
  if (row.expires_at !== null && row.expires_at <= now) {
    throw unauthorized("expired_token", `This API token expired at ${new Date(row.expires_at).toISOString()}.`);
  }
  const token: AuthenticatedToken = { id: row.id, tenantId: row.tenant_id, name: row.name, scopes: JSON.parse(row.scopes) as Scope[] };
  // The mirror of the SCIM endpoint's check: an identity provider's token belongs on /scim/v2.
  if (c.req.path.startsWith("/v1/") && token.scopes.every((s) => s === "scim")) {
    throw new ApiError("insufficient_scope", "This is a SCIM-only token: it works on /scim/v2 only. Use a token with the users:read or users:write scope for /v1.", {
      extra: { requiredScope: "users:read" },
      headers: { "WWW-Authenticate": 'Bearer realm="api", error="insufficient_scope", scope="users:read users:write"' },
    });
  }
  for (const demand of demands) if (!demand.anyOf.some((s) => token.scopes.includes(s))) throw demand.error();
  if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
    // Off the critical path, on the raw binding: bookkeeping, not part of the request's work.
    const touch = tokenDb(c).prepare("UPDATE api_tokens SET last_used_at = ? WHERE id = ?").bind(now, row.id).run();
    c.executionCtx.waitUntil(touch.catch((err) => console.error("last_used_at update failed", String(err))));
  }
  return token;
}

export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const bearer = readBearer(c.req.header("Authorization"));
  if (bearer === undefined) {
    throw new ApiError("missing_token", "Send an API token as 'Authorization: Bearer <token>'.", {
      headers: { "WWW-Authenticate": 'Bearer realm="api"' },
    });
  }
  if (bearer === "" || !isWellFormedToken(bearer)) {
    throw unauthorized(
      "malformed_token",
      "The Authorization header is not 'Bearer <token>' with a token of the form prov_<42 characters>.",
    );
  }
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
