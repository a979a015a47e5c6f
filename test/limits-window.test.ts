/** The counting inside a limiter object, with explicit times (no clock, no I/O). */
import { describe, expect, it } from "vitest";
import { RefusalCounter, SlidingWindow, WINDOW_MS } from "../src/limits/window";

/** A small deterministic PRNG, so that a failure can be replayed. */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe("SlidingWindow", () => {
  it("refuses across a clock-second boundary where a fixed window would admit", () => {
    const w = new SlidingWindow();
    for (let i = 0; i < 10; i++) expect(w.tryAdmit(900 + i, 10).admitted).toBe(true);
    // A fixed window would start afresh at t=1000 and admit ten more within 100 ms.
    const refused = w.tryAdmit(1000, 10);
    expect(refused).toEqual({ admitted: false, retryAfterMs: 900 });
    expect(w.tryAdmit(1899, 10).admitted).toBe(false);
    expect(w.tryAdmit(1900, 10)).toEqual({ admitted: true, remaining: 0, resetMs: 1 });
  });

  it("reports remaining and the time until the oldest admission leaves", () => {
    const w = new SlidingWindow();
    expect(w.tryAdmit(5000, 3)).toEqual({ admitted: true, remaining: 2, resetMs: 1000 });
    expect(w.tryAdmit(5400, 3)).toEqual({ admitted: true, remaining: 1, resetMs: 600 });
    expect(w.tryAdmit(5500, 3)).toEqual({ admitted: true, remaining: 0, resetMs: 500 });
    expect(w.tryAdmit(5600, 3)).toEqual({ admitted: false, retryAfterMs: 400 });
    expect(w.count(6000)).toBe(2);
  });

  it("is exact for random arrivals: admits if and only if fewer than the limit were admitted in the last second", () => {
    for (const seed of [1, 2, 3, 42, 2026]) {
      const random = prng(seed);
      const w = new SlidingWindow();
      const admitted: number[] = [];
      let now = 0;
      for (let i = 0; i < 3000; i++) {
        now += Math.floor(random() * 40); // bursts (several per ms) and gaps
        const limit = random() < 0.8 ? 10 : 4; // a tenant override may change the limit per call
        const before = admitted.filter((t) => t > now - WINDOW_MS).length;
        const result = w.tryAdmit(now, limit);
        expect(result.admitted, `seed ${seed}, request ${i} at ${now}`).toBe(before < limit);
        if (result.admitted) admitted.push(now);
        else expect(result.retryAfterMs).toBeGreaterThan(0);
      }
      // No interval of one second holds more than the highest limit.
      for (let i = 0; i < admitted.length; i++) {
        const inWindow = admitted.filter((t) => t > admitted[i]! - WINDOW_MS && t <= admitted[i]!).length;
        expect(inWindow).toBeLessThanOrEqual(10);
      }
    }
  });

  it("admits again exactly at retryAfterMs, not a millisecond earlier", () => {
    const random = prng(7);
    const w = new SlidingWindow();
    let now = 10_000;
    for (let i = 0; i < 10; i++) w.tryAdmit((now += Math.floor(random() * 90)), 10);
    const refused = w.tryAdmit(now, 10);
    expect(refused.admitted).toBe(false);
    const wait = (refused as { retryAfterMs: number }).retryAfterMs;
    expect(w.tryAdmit(now + wait - 1, 10).admitted).toBe(false);
    expect(w.tryAdmit(now + wait, 10).admitted).toBe(true);
  });

  it("refunds an admission still in the window, and only once", () => {
    const w = new SlidingWindow();
    for (let i = 0; i < 5; i++) w.tryAdmit(100 + i, 5);
    expect(w.tryAdmit(200, 5).admitted).toBe(false);
    expect(w.refund(102)).toBe(true);
    expect(w.refund(102)).toBe(false);
    expect(w.refund(150)).toBe(false);
    expect(w.tryAdmit(200, 5).admitted).toBe(true);
    // Once the admission has left the window there is nothing to give back.
    expect(w.refund(100)).toBe(true);
    w.count(1500);
    expect(w.refund(103)).toBe(false);
  });

  it("keeps memory bounded under a long stream", () => {
    const w = new SlidingWindow();
    for (let t = 0; t < 200_000; t++) w.tryAdmit(t, 50);
    expect(w.count(200_000)).toBeLessThanOrEqual(50);
    expect((w as unknown as { log: number[] }).log.length).toBeLessThan(200);
  });
});

describe("RefusalCounter", () => {
  it("sums refusals over the last windowSeconds", () => {
    const c = new RefusalCounter();
    expect(c.add(40, 0, 60)).toBe(40);
    expect(c.add(30, 30_500, 60)).toBe(70);
    expect(c.add(31, 59_999, 60)).toBe(101);
    // At t=60 s the refusals of second 0 have left the 60-second window.
    expect(c.total(60_000, 60)).toBe(61);
    expect(c.total(91_000, 60)).toBe(31);
    c.clear();
    expect(c.total(91_000, 60)).toBe(0);
  });
});
