/**
 * One rate limiter object per key ("ip:<address>" or "tenant:<id>"), never one global object.
 *
 * Counting is a sliding log of admission times over the last second, held in memory: a request is
 * admitted only if fewer than `limit` requests were admitted in the 1000 ms before it, so no
 * one-second interval (aligned or not) ever holds more than `limit` admissions. The object's
 * methods run without awaiting anything before the decision, so concurrent calls cannot
 * interleave and the count is exact. Losing the log on eviction is harmless: it only covers one
 * second. A block must outlive eviction, so it is the one thing written to storage.
 */
import { DurableObject } from "cloudflare:workers";
import { createDb } from "../db/client";
import type { Env } from "../env";
import { recordBlock } from "./blocks";
import type { BlockPolicy } from "./config";

export const WINDOW_MS = 1000;
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
  /** Admission times (ms), oldest first, from `head` on; older entries are dead. */
  private log: number[] = [];
  private head = 0;
  /** Rejections per second, for the block threshold, oldest first. */
  private rejections: { sec: number; count: number }[] = [];
  private rejectionTotal = 0;
  private blockedUntil = 0;
  private admittedTotal = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const saved = ctx.storage.kv.get<number>(BLOCK_KEY);
    if (typeof saved === "number" && saved > Date.now()) this.blockedUntil = saved;
  }

  /** Counts one request against the limit, or says why it is refused. */
  async hit(req: HitRequest): Promise<HitResult> {
    const now = Date.now();
    const block = req.block;
    if (block) {
      if (this.blockedUntil > now) return { outcome: "blocked", limit: req.limit, blockedUntil: this.blockedUntil };
      if (this.blockedUntil !== 0) this.clearBlock();
      if (req.cachedRejections) this.addRejections(req.cachedRejections, now, block.windowSeconds);
      if (this.rejectionTotal > block.threshold) return this.startBlock(block, now, req.limit);
    }
    const count = this.prune(now);
    if (count < req.limit) {
      this.log.push(now);
      this.admittedTotal += 1;
      return { outcome: "admitted", limit: req.limit, remaining: req.limit - count - 1, resetMs: this.log[this.head]! + WINDOW_MS - now, at: now };
    }
    if (block) {
      this.addRejections(1, now, block.windowSeconds);
      if (this.rejectionTotal > block.threshold) return this.startBlock(block, now, req.limit);
    }
    // The request after this one fits once enough admissions have left the window.
    const freeing = this.log[this.head + (count - req.limit)]!;
    return { outcome: "limited", limit: req.limit, retryAfterMs: Math.max(1, freeing + WINDOW_MS - now) };
  }

  /**
   * Takes back an admission made at `at` because the request was refused by the other counter.
   * A no-op once that admission has left the window.
   */
  refund(at: number): void {
    for (let i = this.log.length - 1; i >= this.head; i--) {
      if (this.log[i] === at) {
        this.log.splice(i, 1);
        this.admittedTotal -= 1;
        return;
      }
      if (this.log[i]! < at) return;
    }
  }

  /** Lifts a block (platform API). Returns whether one was active. */
  unblock(): boolean {
    const active = this.blockedUntil > Date.now();
    this.clearBlock();
    this.rejections = [];
    this.rejectionTotal = 0;
    return active;
  }

  /** Read-only view for the platform API and tests. */
  inspect(blockWindowSeconds = 60): LimiterState {
    const now = Date.now();
    this.pruneRejections(Math.floor(now / 1000), blockWindowSeconds);
    return {
      admittedInWindow: this.prune(now),
      admittedTotal: this.admittedTotal,
      rejectionsInBlockWindow: this.rejectionTotal,
      blockedUntil: this.blockedUntil > now ? this.blockedUntil : null,
    };
  }

  /** Drops admissions older than the window; returns how many remain. */
  private prune(now: number): number {
    const cutoff = now - WINDOW_MS;
    while (this.head < this.log.length && this.log[this.head]! <= cutoff) this.head++;
    if (this.head > 64 && this.head * 2 > this.log.length) {
      this.log = this.log.slice(this.head);
      this.head = 0;
    }
    return this.log.length - this.head;
  }

  private addRejections(count: number, now: number, windowSeconds: number): void {
    const sec = Math.floor(now / 1000);
    const last = this.rejections[this.rejections.length - 1];
    if (last && last.sec === sec) last.count += count;
    else this.rejections.push({ sec, count });
    this.rejectionTotal += count;
    this.pruneRejections(sec, windowSeconds);
  }

  private pruneRejections(sec: number, windowSeconds: number): void {
    while (this.rejections.length > 0 && this.rejections[0]!.sec <= sec - windowSeconds) {
      this.rejectionTotal -= this.rejections.shift()!.count;
    }
  }

  private async startBlock(block: BlockPolicy & { ip: string }, now: number, limit: number): Promise<HitResult> {
    const until = now + block.durationSeconds * 1000;
    const rejections = this.rejectionTotal;
    // State first, so calls arriving while the registry write is in flight already see the block.
    this.blockedUntil = until;
    this.rejections = [];
    this.rejectionTotal = 0;
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
