/**
 * One rate limiter object per key ("ip:<address>" or "tenant:<id>"), never one global object.
 *
 * Counting is a sliding log of admission times over the last second, held in memory (see
 * window.ts): no one-second interval, aligned or not, ever holds more than `limit` admissions.
 * The object's methods run without awaiting anything before the decision, so concurrent calls
 * cannot interleave and the count is exact. Losing the log on eviction is harmless: it only covers one
 * second. A block must outlive eviction, so it is the one thing written to storage.
 */
import { DurableObject } from "cloudflare:workers";
import { createDb } from "../db/client";
import type { Env } from "../env";
import { recordBlock } from "./blocks";
import type { BlockPolicy } from "./config";
import { RefusalCounter, SlidingWindow } from "./window";

const BLOCK_KEY = "blockedUntil";

export interface HitRequest {
  limit: number;
  /** Rejections an isolate answered from its cache since it last called; they count towards a block. */
  cachedRejections?: number;
  /** Per-IP keys only: when repeated rejections turn into a block, and the IP for the block registry. */
  block?: BlockPolicy & { ip: string };
}

export type HitResult =
  /** `at` identifies the admission for a refund; `resetMs` is the time until the oldest admission leaves the window. */
  | { outcome: "admitted"; limit: number; remaining: number; resetMs: number; at: number }
  | { outcome: "limited"; limit: number; retryAfterMs: number }
  | { outcome: "blocked"; limit: number; blockedUntil: number };

export interface LimiterState {
  admittedInWindow: number;
  /** Admissions since this object started (net of refunds); it restarts after eviction. */
  admittedTotal: number;
  rejectionsInBlockWindow: number;
  blockedUntil: number | null;
}

export class RateLimiter extends DurableObject<Env> {
  private window = new SlidingWindow();
  private refusals = new RefusalCounter();
  private blockedUntil = 0;
  private admittedTotal = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const saved = ctx.storage.kv.get<number>(BLOCK_KEY);
    if (typeof saved === "number" && saved > Date.now()) this.blockedUntil = saved;
  }

  /** Counts one request against the limit, or says why it is refused. Nothing is awaited before the decision. */
  async hit(req: HitRequest): Promise<HitResult> {
    const now = Date.now();
    const block = req.block;
    if (block) {
      if (this.blockedUntil > now) return { outcome: "blocked", limit: req.limit, blockedUntil: this.blockedUntil };
      if (this.blockedUntil !== 0) this.clearBlock();
      if (req.cachedRejections && this.refusals.add(req.cachedRejections, now, block.windowSeconds) > block.threshold) {
        return this.startBlock(block, now, req.limit);
      }
    }
    const admission = this.window.tryAdmit(now, req.limit);
    if (admission.admitted) {
      this.admittedTotal += 1;
      return { outcome: "admitted", limit: req.limit, remaining: admission.remaining, resetMs: admission.resetMs, at: now };
    }
    if (block && this.refusals.add(1, now, block.windowSeconds) > block.threshold) return this.startBlock(block, now, req.limit);
    return { outcome: "limited", limit: req.limit, retryAfterMs: admission.retryAfterMs };
  }

  /**
   * Takes back an admission made at `at` because the request was refused by the other counter.
   * A no-op once that admission has left the window.
   */
  refund(at: number): void {
    if (this.window.refund(at)) this.admittedTotal -= 1;
  }

  /** Lifts a block (platform API). Returns whether one was active. */
  unblock(): boolean {
    const active = this.blockedUntil > Date.now();
    this.clearBlock();
    this.refusals.clear();
    return active;
  }

  /** Read-only view for the platform API and tests. */
  inspect(blockWindowSeconds = 60): LimiterState {
    const now = Date.now();
    return {
      admittedInWindow: this.window.count(now),
      admittedTotal: this.admittedTotal,
      rejectionsInBlockWindow: this.refusals.total(now, blockWindowSeconds),
      blockedUntil: this.blockedUntil > now ? this.blockedUntil : null,
    };
  }

  private async startBlock(block: BlockPolicy & { ip: string }, now: number, limit: number): Promise<HitResult> {
    const until = now + block.durationSeconds * 1000;
    const rejections = this.refusals.total(now, block.windowSeconds);
    // State first, so calls arriving while the registry write is in flight already see the block.
    this.blockedUntil = until;
    this.refusals.clear();
    this.ctx.storage.kv.put(BLOCK_KEY, until);
    console.warn(JSON.stringify({ level: "warn", event: "ip_blocked", ip: block.ip, until: new Date(until).toISOString(), rejections }));
    try {
      await recordBlock(createDb(this.env.DB), { ip: block.ip, blockedAt: now, blockedUntil: until, rejections });
    } catch (err) {
      // The block is enforced regardless; only the listing misses it.
      console.error(JSON.stringify({ level: "error", event: "block_registry_write_failed", ip: block.ip }), err);
    }
    return { outcome: "blocked", limit, blockedUntil: until };
  }

  private clearBlock(): void {
    this.blockedUntil = 0;
    this.ctx.storage.kv.delete(BLOCK_KEY);
  }
}
