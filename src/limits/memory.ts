/**
 * Limiters for tests and benchmarks, behind the same interface as the Durable Object one
 * (limiter.ts): an exact in-memory sliding window driven by an injected clock, so a test moves
 * time instead of sleeping, and one that admits everything.
 */
import type { Clock } from "../core/context";
import type { CounterKind, CounterView, LimitDecision, Limiter } from "./limiter";

const WINDOW_MS = 1000;

/** Exact per-key sliding 1-second windows in this isolate's memory (no blocks, no fail-open). */
export function memoryLimiter(clock: Clock): Limiter {
  const log = new Map<string, number[]>();
  function view(kind: CounterKind, key: string, limit: number, now: number): CounterView & { hits: number[] } {
    const hits = (log.get(key) ?? []).filter((t) => t > now - WINDOW_MS);
    log.set(key, hits);
    const resetMs = hits.length > 0 ? hits[0]! + WINDOW_MS - now : 0;
    return { kind, limit, remaining: Math.max(0, limit - hits.length), resetMs, hits };
  }
  return {
    check(req): LimitDecision {
      const now = clock.now();
      const counters = [view("ip", `ip:${req.ip}`, req.ipLimit, now)];
      if (req.tenant) counters.push(view("tenant", `tenant:${req.tenant.id}`, req.tenant.limit, now));
      const full = counters.find((c) => c.remaining === 0);
      if (full) return { admitted: false, kind: full.kind, reason: "limit", limit: full.limit, retryAfterMs: full.resetMs };
      for (const c of counters) c.hits.push(now);
      return {
        admitted: true,
        counters: counters.map(({ kind, limit, remaining, hits }) => ({ kind, limit, remaining: remaining - 1, resetMs: hits[0]! + WINDOW_MS - now })),
      };
    },
  };
}

/** Admits every request and reports no counters. */
export const noLimiter: Limiter = { check: () => ({ admitted: true, counters: [] }) };
