/**
 * The rate-limit middleware. The limiter is asked as soon as the tenant is known, and the
 * request goes on *while* it answers: the answer is awaited before the first write (by the
 * request's database gate, core/request-db.ts) and before the response leaves, so a read costs
 * one round trip in time, not two. A refusal always wins over whatever the handler produced,
 * nothing is written for a refused request, and a key this isolate already knows to be over its
 * limit is refused at once, without touching D1.
 *
 * Refusals are ApiErrors, so each adapter's onError decides the body (problem+json for REST, a
 * SCIM Error for SCIM); the headers travel on the error and on every other response.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "../http/errors";
import { effectiveLimits, readLimitConfig } from "./config";
import { durableObjectLimiter, type CounterKind, type CounterView, type LimitDecision } from "./limiter";

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

function refusal(decision: Extract<LimitDecision, { admitted: false }>): ApiError {
  const retryAfter = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
  const headers = { ...rateLimitHeaders(decision.kind, decision.limit, 0, retryAfter * 1000), "Retry-After": String(retryAfter) };
  const detail =
    decision.reason === "blocked"
      ? `This client IP is blocked for ${retryAfter} s after repeatedly exceeding its rate limit. Wait for Retry-After before sending more requests.`
      : `Rate limit exceeded: at most ${decision.limit} requests per second ${LIMIT_NAMES[decision.kind]}. Retry after ${retryAfter} s and slow down.`;
  return new ApiError("rate_limited", detail, {
    headers,
    extra: { limit: decision.kind, reason: decision.reason === "blocked" ? "blocked" : "limit_exceeded", retryAfterSeconds: retryAfter, violatedPolicies: [decision.kind] },
  });
}

/**
 * `scope: "tenant"` counts the request against the client IP and the tenant (tenant hosts);
 * `scope: "ip"` only against the client IP (platform API, discovery documents).
 */
export function rateLimit(scope: "tenant" | "ip") {
  return createMiddleware<AppEnv>(async (c, next) => {
    const config = readLimitConfig(c.env);
    const limiter = c.get("limiter") ?? (config.enabled ? durableObjectLimiter(c.env.RATE_LIMITER) : undefined);
    if (!limiter) return next();

    const ip = clientIp(c.req.header("CF-Connecting-IP"));
    let ipLimit = config.ipPerSecond;
    let tenant: { id: string; limit: number } | undefined;
    if (scope === "tenant") {
      const record = c.get("tenant");
      const limits = effectiveLimits(config, record);
      ipLimit = limits.ipPerSecond;
      tenant = { id: record.id, limit: limits.tenantPerSecond };
    }

    const answer = limiter.check({ ip, ipLimit, tenant, block: config.block, timeoutMs: config.timeoutMs }, c.executionCtx);
    // Known at once (the isolate cache): refuse before any database work.
    if (!(answer instanceof Promise) && !answer.admitted) throw refusal(answer);
    const decision = Promise.resolve(answer);
    c.get("gates").admission = decision.then((d) => (d.admitted ? null : refusal(d)));

    await next();

    const settled = await decision;
    if (!settled.admitted) throw refusal(settled);
    const tight = tightest(settled.counters);
    if (tight) setHeaders(c, rateLimitHeaders(tight.kind, tight.limit, tight.remaining, tight.resetMs));
  });
}

function setHeaders(c: Context, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
}
