// The distance run: the same requests as some load scenarios, with the counting wrapper adding
// a delay to every D1 call and every Durable Object call, as a consumer far from the database
// and the limiter objects would see them (locally both answer in about a millisecond).
//
// One connection: the question is what one request costs end to end, and a single client keeps
// local queueing (10 connections on 2 shared cores) from being added on top of the delays.
import { readCounters, resetCounters, summariseCounts } from "./counting.mjs";
import { runSingle } from "./load.mjs";
import { reconfigureWorker } from "./workers.mjs";

export const DISTANCE = { d1DelayMs: 30, doDelayMs: 10, connections: 1 };

/** Scenario rows re-run at a distance (their `spec`, so POSTs keep creating new users). */
export const DISTANCE_KEYS = ["1", "5-post", "5-patch", "4-first", "6-id", "6-filter"];

/** p50 targets for a far consumer, by scenario key. */
export const DISTANCE_TARGETS = { "1": 45, "5-post": 80 };

/**
 * Restarts the app with the delays, loads each row, then restarts it without them.
 * Returns one entry per row: latencies, the calls per request as counted meanwhile.
 */
export async function runDistance(ctx, rows, { keys = DISTANCE_KEYS, durationSec, warmupSec, log }) {
  const app = ctx.app;
  await reconfigureWorker(app, { BENCH_D1_DELAY_MS: String(DISTANCE.d1DelayMs), BENCH_DO_DELAY_MS: String(DISTANCE.doDelayMs) });
  const out = [];
  try {
    for (const key of keys) {
      const row = rows.find((r) => r.key === key);
      if (!row?.spec) continue;
      const opts = { connections: DISTANCE.connections, durationSec };
      if (warmupSec > 0) await runSingle(row.spec, { ...opts, durationSec: warmupSec });
      await resetCounters(app);
      const result = await runSingle(row.spec, opts);
      const counts = summariseCounts(await readCounters(app));
      const target = DISTANCE_TARGETS[key];
      out.push({ key, label: row.label, result, counts, ...(target ? { targetP50Ms: target, met: result.p50Ms !== null && result.p50Ms <= target } : {}) });
      log?.(`distance ${key.padEnd(9)} p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms  (${result.latencySamples} requests; D1 ${counts.d1.median}, DO ${counts.do.median}, hops ${counts.hops.median})`);
    }
  } finally {
    await reconfigureWorker(app, { BENCH_D1_DELAY_MS: "0", BENCH_DO_DELAY_MS: "0" });
  }
  return out;
}
