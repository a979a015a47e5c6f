/**
 * The platform operator's authentication: every /platform route needs the PLATFORM_ADMIN_TOKEN
 * secret as a bearer token, compared in constant time. Kept apart from the tenant and block
 * routes because both routers (and only they) guard themselves with it.
 */
import { createMiddleware } from "hono/factory";
import { readBearer } from "../auth/middleware";
import { isWellFormedToken } from "../auth/tokens";
import type { AppEnv } from "../env";
import { ApiError } from "../http/errors";
import { secretsEqual } from "../lib/crypto";

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
    // The mirror of the tenant hosts' check (auth/middleware.ts): name the usual mix-up.
    const detail = isWellFormedToken(bearer)
      ? "This is a tenant API token; the platform API needs the platform admin token (PLATFORM_ADMIN_TOKEN). Use tenant tokens on the tenant's host."
      : "This is not the platform admin token.";
    throw new ApiError("unknown_token", detail, { headers: { "WWW-Authenticate": 'Bearer realm="platform", error="invalid_token"' } });
  }
  await next();
});
