import { eq } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { apiTokens } from "../db/schema";
import type { AppEnv } from "../env";
import { ApiError } from "../http/errors";
import { hashToken, isWellFormedToken, type Scope } from "./tokens";

/** last_used_at is written at most this often per token, so reads stay reads. */
const LAST_USED_RESOLUTION_MS = 60_000;

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

/**
 * Authenticates the tenant request's bearer token. Tokens are never cached: disabling one takes
 * effect on the very next request.
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("Authorization");
  const bearer = readBearer(header);
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
  const db = c.get("db");
  const row = await db.select().from(apiTokens).where(eq(apiTokens.tokenHash, hash)).get();
  const tenant = c.get("tenant");
  if (!row) throw unauthorized("unknown_token", "This API token does not exist.");
  if (row.tenantId !== tenant.id) {
    throw unauthorized("wrong_tenant_token", "This API token belongs to another tenant; use it on that tenant's host.");
  }
  if (row.disabledAt !== null) throw unauthorized("disabled_token", "This API token has been disabled by an admin.");
  const now = Date.now();
  if (row.expiresAt !== null && row.expiresAt <= now) {
    throw unauthorized("expired_token", `This API token expired at ${new Date(row.expiresAt).toISOString()}.`);
  }
  const scopes = JSON.parse(row.scopes) as Scope[];
  // The mirror of the SCIM endpoint's check: an identity provider's token belongs on /scim/v2.
  if (c.req.path.startsWith("/v1/") && scopes.every((s) => s === "scim")) {
    throw new ApiError("insufficient_scope", "This is a SCIM-only token: it works on /scim/v2 only. Use a token with the users:read or users:write scope for /v1.", {
      extra: { requiredScope: "users:read" },
      headers: { "WWW-Authenticate": 'Bearer realm="api", error="insufficient_scope", scope="users:read users:write"' },
    });
  }
  c.set("token", { id: row.id, tenantId: row.tenantId, name: row.name, scopes });
  if (row.lastUsedAt === null || now - row.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
    const touch = db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.id)).run();
    c.executionCtx.waitUntil(touch.catch((err) => console.error("last_used_at update failed", String(err))));
  }
  await next();
});

export function hasScope(c: { get(key: "token"): { scopes: Scope[] } }, scope: Scope): boolean {
  return c.get("token").scopes.includes(scope);
}

export function requireScope(scope: Scope) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!hasScope(c, scope)) {
      throw new ApiError("insufficient_scope", `This operation needs a token with the '${scope}' scope.`, {
        extra: { requiredScope: scope },
        headers: {
          "WWW-Authenticate": `Bearer realm="api", error="insufficient_scope", scope="${scope}"`,
        },
      });
    }
    await next();
  });
}
