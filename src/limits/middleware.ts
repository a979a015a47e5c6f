/**
 * The rate-limit middleware. Mount it after the tenant is known and before authentication, so a
 * flood costs no database work. It throws an ApiError for a refusal, so each adapter's onError
 * decides the body (problem+json for REST, a SCIM Error for SCIM); the headers travel on the error
 * and on the context, so every response, 2xx or not, carries them.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "../http/errors";
import { effectiveLimits, readLimitConfig } from "./config";
import { checkLimits, type CounterKind, type CounterView } from "./limiter";

/** Requests without CF-Connecting-IP (or with something that is not an address) share one key. */
export const UNKNOWN_IP = "unknown";

export function clientIp(header: string | undefined): string {
  const value = header?.trim().toLowerCase();
  return value && /^[0-9a-f.:]{2,45}$/.test(value) ? value : UNKNOWN_IP;
}

/** IETF draft-ietf-httpapi-ratelimit-headers-11 fields plus GitHub-style X-RateLimit-*. */
export function rateLimitHeaders(kind: CounterKind, limit: number, remaining: number, resetMs: number, now = Date.now()): Record<string, string> {
  const resetSeconds = Math.max(0, Math.ceil(resetMs / 1000));
  return {
    "RateLimit-Policy": `"${kind}";q=${limit};w=1`,
    RateLimit: `"${kind}";r=${remaining};t=${resetSeconds}`,
    "X-RateLimit-Limit": String(limit),
    "X-RateLimit-Remaining": String(remaining),
    "X-RateLimit-Reset": String(Math.ceil((now + resetMs) / 1000)),
  };
}

/** The counter closest to refusing: fewest requests left, then the smaller limit. */
function tightest(counters: CounterView[]): CounterView | undefined {
  return [...counters].sort((a, b) => a.remaining - b.remaining || a.limit - b.limit)[0];
}

const LIMIT_NAMES: Record<CounterKind, string> = { ip: "per client IP", tenant: "per tenant" };

/**
 * `scope: "tenant"` counts the request against the client IP and the tenant (tenant hosts);
 * `scope: "ip"` only against the client IP (platform API, discovery documents).
 */
export function rateLimit(scope: "tenant" | "ip") {
  return createMiddleware<AppEnv>(async (c, next) => {
    const config = readLimitConfig(c.env);
    if (!config.enabled) return next();

    const ip = clientIp(c.req.header("CF-Connecting-IP"));
    let ipLimit = config.ipPerSecond;
    let tenant: { id: string; limit: number } | undefined;
    if (scope === "tenant") {
      const record = c.get("tenant");
      const limits = effectiveLimits(config, record);
      ipLimit = limits.ipPerSecond;
      tenant = { id: record.id, limit: limits.tenantPerSecond };
    }

    const decision = await checkLimits(c.env.RATE_LIMITER, { ip, ipLimit, tenant, block: config.block, timeoutMs: config.timeoutMs }, c.executionCtx);
    const now = Date.now();
    if (!decision.admitted) {
      const retryAfter = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      const headers = { ...rateLimitHeaders(decision.kind, decision.limit, 0, retryAfter * 1000, now), "Retry-After": String(retryAfter) };
      setHeaders(c, headers);
      const detail =
        decision.reason === "blocked"
          ? `This client IP is blocked for ${retryAfter} s after repeatedly exceeding its rate limit. Wait for Retry-After before sending more requests.`
          : `Rate limit exceeded: at most ${decision.limit} requests per second ${LIMIT_NAMES[decision.kind]}. Retry after ${retryAfter} s and slow down.`;
      throw new ApiError("rate_limited", detail, {
        headers,
        extra: { limit: decision.kind, reason: decision.reason === "blocked" ? "blocked" : "limit_exceeded", retryAfterSeconds: retryAfter, violatedPolicies: [decision.kind] },
      });
    }

    const tight = tightest(decision.counters);
    const headers = tight ? rateLimitHeaders(tight.kind, tight.limit, tight.remaining, tight.resetMs, now) : {};
    setHeaders(c, headers);
    await next();
    // Handlers that build their own Response bypass the prepared headers.
    for (const [name, value] of Object.entries(headers)) if (!c.res.headers.has(name)) c.header(name, value);
  });
}

function setHeaders(c: Context, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
}
