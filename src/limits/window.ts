/**
 * The counting inside one limiter object, free of clocks and I/O so that it can be tested with
 * explicit times. The object passes Date.now().
 */

export const WINDOW_MS = 1000;

export type Admission = { admitted: true; remaining: number; resetMs: number } | { admitted: false; retryAfterMs: number };

/**
 * A sliding log of admission times: a request at `now` is admitted only if fewer than `limit`
 * requests were admitted in (now - 1000 ms, now]. Hence no interval of one second, aligned to the
 * clock or not, ever holds more than `limit` admissions (a fixed window can hold twice as many
 * across its boundary). Memory is bounded by the largest limit in use.
 */
export class SlidingWindow {
  /** Admission times, oldest first, from `head` on; entries before `head` are dead. */
  private log: number[] = [];
  private head = 0;

  /** Admissions in the window ending at `now`. */
  count(now: number): number {
    const cutoff = now - WINDOW_MS;
    while (this.head < this.log.length && this.log[this.head]! <= cutoff) this.head++;
    if (this.head > 64 && this.head * 2 > this.log.length) {
      this.log = this.log.slice(this.head);
      this.head = 0;
    }
    return this.log.length - this.head;
  }

  tryAdmit(now: number, limit: number): Admission {
    const count = this.count(now);
    if (count < limit) {
      this.log.push(now);
      return { admitted: true, remaining: limit - count - 1, resetMs: this.log[this.head]! + WINDOW_MS - now };
    }
    // The next request fits once count - limit + 1 of the oldest admissions have left the window.
    const freeing = this.log[this.head + (count - limit)]!;
    return { admitted: false, retryAfterMs: Math.max(1, freeing + WINDOW_MS - now) };
  }

  /** Takes back the admission made at `at`; false once it has left the window (nothing to undo). */
  refund(at: number): boolean {
    for (let i = this.log.length - 1; i >= this.head; i--) {
      if (this.log[i] === at) {
        this.log.splice(i, 1);
        return true;
      }
      if (this.log[i]! < at) return false;
    }
    return false;
  }
}

/** Refusals per second over the last `windowSeconds`, for the block threshold. */
export class RefusalCounter {
  private buckets: { sec: number; count: number }[] = [];
  private sum = 0;

  add(count: number, now: number, windowSeconds: number): number {
    const sec = Math.floor(now / 1000);
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.sec === sec) last.count += count;
    else this.buckets.push({ sec, count });
    this.sum += count;
    return this.total(now, windowSeconds);
  }

  total(now: number, windowSeconds: number): number {
    const sec = Math.floor(now / 1000);
    while (this.buckets.length > 0 && this.buckets[0]!.sec <= sec - windowSeconds) this.sum -= this.buckets.shift()!.count;
    return this.sum;
  }

  clear(): void {
    this.buckets = [];
    this.sum = 0;
  }
}
