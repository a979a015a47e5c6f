/**
 * Asks the per-IP and per-tenant limiter objects about one request, with an isolate-local cache
 * in front of them and fail-open behind them.
 *
 * - Both objects are asked in parallel. A request refused by one counter must not use up the
 *   other's quota, so an admission by the other is refunded (in the background). Until the refund
 *   lands the other counter is one too high: it may refuse a request it could have admitted, but
 *   it can never admit more than its limit. We prefer that to asking the two in sequence, which
 *   would double the added latency of every request.
 * - A key known to be over its limit, or blocked, is answered from the cache without a Durable
 *   Object call until the object would say otherwise. Rejections answered that way are counted
 *   and reported with the next call, so a flood served from the cache still leads to a block.
 *   Block entries are re-checked at least every second, so lifting a block takes effect in every
 *   isolate within a second; while re-checking, the IP object is asked alone, so a blocked IP
 *   never touches the tenant counter.
 * - An object that throws, is overloaded or does not answer in time is skipped: the request is
 *   served (fail open) and the failure logged. Availability of the API matters more than exact
 *   fair use during a limiter incident.
 */
import type { BlockPolicy } from "./config";
import type { HitRequest, HitResult, RateLimiter } from "./durable-object";

export type CounterKind = "ip" | "tenant";

export interface CounterView {
  kind: CounterKind;
  limit: number;
  remaining: number;
  resetMs: number;
}

export type LimitDecision =
  | { admitted: true; counters: CounterView[] }
  | { admitted: false; kind: CounterKind; reason: "limit" | "blocked"; limit: number; retryAfterMs: number };

export interface LimitRequest {
  ip: string;
  ipLimit: number;
  /** Absent for requests outside the tenant limit (platform API, discovery documents). */
  tenant?: { id: string; limit: number };
  block: BlockPolicy;
  timeoutMs: number;
}

/** The part of the execution context the limiter needs (Hono's and workerd's types differ). */
export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

interface CacheEntry {
  /** Until when the isolate answers for the key without asking its object. */
  until: number;
  /** The limit the key was found over. A request with a higher limit still asks the object. */
  limit: number;
  /** When the block ends; 0 for an over-limit entry. */
  blockedUntil: number;
  /** Rejections answered from this entry and not yet reported to the object. */
  pending: number;
}

const cache = new Map<string, CacheEntry>();
const MAX_CACHE_ENTRIES = 10_000;
const BLOCK_RECHECK_MS = 1000;

export const ipKey = (ip: string) => `ip:${ip}`;
export const tenantKey = (tenantId: string) => `tenant:${tenantId}`;

/** Drops what this isolate knows about a key (after a block is lifted). */
export function forgetCachedKey(key: string): void {
  cache.delete(key);
}

function remember(key: string, entry: CacheEntry): void {
  if (cache.size >= MAX_CACHE_ENTRIES) cache.clear();
  cache.set(key, entry);
}

async function callLimiter(ns: DurableObjectNamespace<RateLimiter>, key: string, req: HitRequest, timeoutMs: number): Promise<HitResult | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    return (await Promise.race([ns.getByName(key).hit(req), timeout])) as HitResult;
  } catch (err) {
    console.error(
      JSON.stringify({
        level: "error",
        event: "rate_limiter_failed",
        counter: key.startsWith("ip:") ? "ip" : "tenant",
        overloaded: Boolean((err as { overloaded?: boolean } | null)?.overloaded),
        error: err instanceof Error ? err.message : String(err),
        action: "request served without this limit (fail open)",
      }),
    );
    return null;
  } finally {
    clearTimeout(timer);
  }
}

function refund(ns: DurableObjectNamespace<RateLimiter>, key: string, result: HitResult | null | undefined, ctx: WaitUntil): void {
  if (result?.outcome !== "admitted") return;
  const at = result.at;
  ctx.waitUntil(
    Promise.resolve(ns.getByName(key).refund(at)).catch((err: unknown) =>
      console.error(JSON.stringify({ level: "error", event: "rate_limit_refund_failed", counter: key.startsWith("ip:") ? "ip" : "tenant", error: String(err) })),
    ),
  );
}

/**
 * What the rate-limit middleware asks. A decision the isolate can make on its own comes back
 * as a plain value, so the middleware can refuse without touching D1; otherwise a promise.
 */
export interface Limiter {
  check(req: LimitRequest, ctx: WaitUntil): LimitDecision | Promise<LimitDecision>;
}

/** Production: the per-key Durable Objects behind the isolate cache. */
export function durableObjectLimiter(ns: DurableObjectNamespace<RateLimiter>): Limiter {
  return { check: (req, ctx) => checkLimits(ns, req, ctx) };
}

export function checkLimits(ns: DurableObjectNamespace<RateLimiter>, req: LimitRequest, ctx: WaitUntil): LimitDecision | Promise<LimitDecision> {
  const now = Date.now();
  const ipK = ipKey(req.ip);
  const tenantK = req.tenant ? tenantKey(req.tenant.id) : undefined;

  // 1. The isolate cache.
  let pending = 0;
  let ipAlone = false;
  const ipEntry = cache.get(ipK);
  if (ipEntry) {
    if (ipEntry.blockedUntil > now) {
      if (ipEntry.until > now) {
        return { admitted: false, kind: "ip", reason: "blocked", limit: req.ipLimit, retryAfterMs: ipEntry.blockedUntil - now };
      }
      ipAlone = true;
    } else if (ipEntry.until > now && req.ipLimit <= ipEntry.limit) {
      ipEntry.pending += 1;
      return { admitted: false, kind: "ip", reason: "limit", limit: req.ipLimit, retryAfterMs: ipEntry.until - now };
    }
    pending = ipEntry.pending;
    ipEntry.pending = 0;
  }
  if (tenantK && req.tenant) {
    const entry = cache.get(tenantK);
    if (entry && entry.until > now && req.tenant.limit <= entry.limit) {
      return { admitted: false, kind: "tenant", reason: "limit", limit: req.tenant.limit, retryAfterMs: entry.until - now };
    }
    if (entry && entry.until <= now) cache.delete(tenantK);
  }

  return askObjects(ns, req, ctx, { ipK, tenantK, pending, ipAlone, ipEntry });
}

async function askObjects(
  ns: DurableObjectNamespace<RateLimiter>,
  req: LimitRequest,
  ctx: WaitUntil,
  { ipK, tenantK, pending, ipAlone, ipEntry }: { ipK: string; tenantK: string | undefined; pending: number; ipAlone: boolean; ipEntry: CacheEntry | undefined },
): Promise<LimitDecision> {
  // 2. The objects: in parallel, or the IP object first while a known block is being re-checked.
  const askIp = () =>
    callLimiter(ns, ipK, { limit: req.ipLimit, cachedRejections: pending, block: { ...req.block, ip: req.ip } }, req.timeoutMs);
  const askTenant = () => (tenantK && req.tenant ? callLimiter(ns, tenantK, { limit: req.tenant.limit }, req.timeoutMs) : Promise.resolve(undefined));
  let ipResult: HitResult | null;
  let tenantResult: HitResult | null | undefined;
  if (ipAlone) {
    ipResult = await askIp();
    tenantResult = ipResult === null || ipResult.outcome === "admitted" ? await askTenant() : undefined;
  } else {
    [ipResult, tenantResult] = await Promise.all([askIp(), askTenant()]);
  }

  // 3. Remember refusals, so that the next requests skip the objects.
  const after = Date.now();
  if (ipResult?.outcome === "limited") {
    remember(ipK, { until: after + ipResult.retryAfterMs, limit: req.ipLimit, blockedUntil: 0, pending: 0 });
  } else if (ipResult?.outcome === "blocked") {
    remember(ipK, { until: Math.min(ipResult.blockedUntil, after + BLOCK_RECHECK_MS), limit: req.ipLimit, blockedUntil: ipResult.blockedUntil, pending: 0 });
  } else if (ipEntry) {
    cache.delete(ipK);
  }
  if (tenantK && tenantResult?.outcome === "limited") {
    remember(tenantK, { until: after + tenantResult.retryAfterMs, limit: tenantResult.limit, blockedUntil: 0, pending: 0 });
  }

  // 4. Decide; a refusal by one counter gives back the other's admission.
  if (ipResult?.outcome === "blocked") {
    if (tenantK) refund(ns, tenantK, tenantResult, ctx);
    return { admitted: false, kind: "ip", reason: "blocked", limit: req.ipLimit, retryAfterMs: ipResult.blockedUntil - after };
  }
  if (ipResult?.outcome === "limited") {
    if (tenantK) refund(ns, tenantK, tenantResult, ctx);
    return { admitted: false, kind: "ip", reason: "limit", limit: req.ipLimit, retryAfterMs: ipResult.retryAfterMs };
  }
  if (tenantResult?.outcome === "limited") {
    refund(ns, ipK, ipResult, ctx);
    return { admitted: false, kind: "tenant", reason: "limit", limit: tenantResult.limit, retryAfterMs: tenantResult.retryAfterMs };
  }
  const counters: CounterView[] = [];
  if (ipResult?.outcome === "admitted") counters.push({ kind: "ip", limit: ipResult.limit, remaining: ipResult.remaining, resetMs: ipResult.resetMs });
  if (tenantResult?.outcome === "admitted") {
    counters.push({ kind: "tenant", limit: tenantResult.limit, remaining: tenantResult.remaining, resetMs: tenantResult.resetMs });
  }
  return { admitted: true, counters };
}
