// Per-request bookkeeping of remote calls (D1, Durable Objects, Queues) for the counting wrapper.
// Plain JavaScript with no Worker APIs, so that the harness can also import it in Node and check
// the hop arithmetic before trusting any number (see selfTest below).
//
// Sequential hops: each call gets level = 1 + the highest level among the calls of the same
// request that had *completed* when it started. Calls started together (Promise.all) see the
// same completed set and share a level; a call started after another returned sits one level
// above it. The request's hops are the highest level among its critical-path calls. Only the
// order of events matters, so no clock is read (workerd's clock may not advance between I/O).
//
// Work handed to ctx.waitUntil is not on the critical path, but a wrapper around the bindings
// cannot see which promise a call feeds. The usual shape is `ctx.waitUntil(doWork())`, where
// doWork's first call starts in the same synchronous run as the waitUntil: so calls started in
// the current synchronous run (until the next microtask checkpoint) when waitUntil is called are
// counted as background. Calls such work chains later (after its first call returned) cannot be
// told apart and count on the critical path if they complete before the response.

/** @typedef {"d1" | "do" | "queue"} Kind */
export const KINDS = /** @type {const} */ (["d1", "do", "queue"]);

const zero = () => ({ d1: 0, do: 0, queue: 0 });

/** Totals of one isolate since the last reset, served by the wrapper at /__bench/counters. */
export class IsolateStats {
  constructor() {
    this.reset();
  }
  reset() {
    this.requests = 0;
    /** "d1|do|queue|hops" -> number of requests with exactly those critical-path counts. */
    this.histogram = new Map();
    /** Calls of a request that started after its Response was returned, or were still running then. */
    this.background = zero();
    /** Calls outside any HTTP request (queue consumer, cron). */
    this.untracked = zero();
  }
  /** @param {{ d1: number, do: number, queue: number, hops: number }} c */
  record(c) {
    this.requests += 1;
    const key = `${c.d1}|${c.do}|${c.queue}|${c.hops}`;
    this.histogram.set(key, (this.histogram.get(key) ?? 0) + 1);
  }
  toJSON() {
    const perRequest = [...this.histogram].map(([key, count]) => {
      const [d1, d, queue, hops] = key.split("|").map(Number);
      return { d1, do: d, queue, hops, count };
    });
    return { requests: this.requests, perRequest, background: this.background, untracked: this.untracked };
  }
}

/** The remote calls of one HTTP request. */
export class RequestTracker {
  /** @param {IsolateStats} stats */
  constructor(stats) {
    this.stats = stats;
    this.responded = false;
    this.maxDoneLevel = 0;
    /** @type {{ kind: Kind, level: number, done: boolean, handedOff: boolean }[]} */
    this.calls = [];
    /** Calls started in the current synchronous run (null after the next microtask checkpoint). */
    this.segment = null;
  }

  /** A call is starting. Returns a handle for `finish`, or null once the response is out. */
  start(/** @type {Kind} */ kind) {
    if (this.responded) {
      this.stats.background[kind] += 1;
      return null;
    }
    const call = { kind, level: this.maxDoneLevel + 1, done: false, handedOff: false };
    this.calls.push(call);
    if (this.segment === null) {
      this.segment = [];
      queueMicrotask(() => (this.segment = null));
    }
    this.segment.push(call);
    return call;
  }

  /** ctx.waitUntil was called: the calls just started feed it (see the top of this file). */
  waitUntil() {
    if (this.responded || this.segment === null) return;
    for (const call of this.segment) call.handedOff = true;
  }

  finish(call) {
    if (call === null) return;
    call.done = true;
    // After the response a late completion must not change what was already reported, and
    // background work does not gate what the request does next.
    if (!this.responded && !call.handedOff && call.level > this.maxDoneLevel) this.maxDoneLevel = call.level;
  }

  /**
   * The Response is about to be returned. Calls that completed before now were on the critical
   * path; those still running (typically handed to ctx.waitUntil) count as background.
   */
  close() {
    this.responded = true;
    const counts = { ...zero(), hops: 0 };
    for (const call of this.calls) {
      if (!call.done || call.handedOff) {
        this.stats.background[call.kind] += 1;
        continue;
      }
      counts[call.kind] += 1;
      if (call.level > counts.hops) counts.hops = call.level;
    }
    this.stats.record(counts);
    return counts;
  }
}

/**
 * Checks the arithmetic on a scripted request: two calls in parallel, then one after them, then a
 * call handed to waitUntil next to a critical one, then a call left running at the response. Throws on a mismatch; the smoke run calls it.
 */
export async function selfTest() {
  const stats = new IsolateStats();
  const t = new RequestTracker(stats);
  const tick = () => new Promise((r) => setTimeout(r, 1));
  const a = t.start("do");
  const b = t.start("d1");
  await tick();
  t.finish(a);
  t.finish(b);
  const c = t.start("d1");
  await tick();
  t.finish(c);
  const handedOff = t.start("queue"); // ctx.waitUntil(send()): background even if it ends in time
  t.waitUntil();
  const d = t.start("d1"); // started after the waitUntil: critical
  await tick();
  t.finish(handedOff);
  t.finish(d);
  const late = t.start("d1"); // still running at the response
  const counts = t.close();
  t.finish(late);
  t.finish(t.start("queue")); // started after the response
  const got = JSON.stringify({ counts, background: stats.background });
  const want = JSON.stringify({ counts: { d1: 3, do: 1, queue: 0, hops: 3 }, background: { d1: 1, do: 0, queue: 2 } });
  if (got !== want) throw new Error(`counting tracker self-test: got ${got}, want ${want}`);
}
