// Load generation with autocannon: loopback, fixed connections, bounded in time.
//
// Shared machines are noisy, so a scenario is never compared with a ceiling measured minutes
// earlier: the timed window is cut into slices that alternate ceiling / scenario (ABAB...), and
// the ratio is the scenario's completed requests over the ceiling's in the paired slices.
import autocannon from "autocannon";
import { memorySampler } from "./workers.mjs";

/** autocannon's histogram keeps whole milliseconds; loopback latencies need finer ones. */
const MAX_SAMPLES = 5_000_000;

function once(opts) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
    instance.on("error", () => {});
  });
}

/**
 * One bounded load. `spec.request(i)` returns {method, path, body?} for the i-th request (a
 * counter shared by the connections), so each request can address a different user.
 */
async function measure(spec, { connections, durationSec, latencies, sample = true }) {
  const headers = { host: spec.host, accept: "application/json", ...(spec.token ? { authorization: `Bearer ${spec.token}` } : {}) };
  const requests = [
    {
      setupRequest(req, context) {
        context.sentAt = process.hrtime.bigint();
        const r = spec.request(spec.counter++);
        req.method = r.method ?? "GET";
        req.path = r.path;
        if (r.body !== undefined) {
          req.body = JSON.stringify(r.body);
          req.headers = { ...req.headers, "content-type": "application/json" };
        } else {
          req.body = undefined;
        }
        return req;
      },
      onResponse(status, _body, context) {
        if (latencies && context.sentAt !== undefined && latencies.length < MAX_SAMPLES && status >= 200 && status < 300) {
          latencies.push(Number(process.hrtime.bigint() - context.sentAt) / 1e6);
        }
      },
    },
  ];
  const sampler = memorySampler(spec.worker.pid, sample ? 100 : 60_000);
  const r = await once({ url: spec.worker.url.origin, connections, pipelining: 1, headers, requests, duration: durationSec, timeout: 30 });
  const memory = sampler.stop();
  return { requests: r.requests.total, sent: r.requests.sent, durationSec: r.duration, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts, statusCodes: r.statusCodeStats, memory };
}

const round = (v) => Math.round(v * 1000) / 1000;

function summarise(slices, latencies, connections) {
  const sorted = Float64Array.from(latencies).sort();
  const pct = (p) => (sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]) : null);
  const total = slices.reduce((a, s) => a + s.requests, 0);
  const seconds = slices.reduce((a, s) => a + s.durationSec, 0);
  const statusCodes = {};
  for (const s of slices) for (const [code, v] of Object.entries(s.statusCodes ?? {})) statusCodes[code] = (statusCodes[code] ?? 0) + v.count;
  const peaks = slices.map((s) => s.memory?.peakRssKiB).filter((x) => x);
  const cpu = slices.map((s) => s.memory?.cpuMs);
  const cpuMs = cpu.every((x) => typeof x === "number") ? cpu.reduce((a, x) => a + x, 0) : null;
  return {
    requestsPerSec: round(total / seconds),
    totalRequests: total,
    // Sent, answered or not: requests still in flight when the load stopped are sent, not total.
    sentRequests: slices.reduce((a, s) => a + (s.sent ?? 0), 0),
    durationSec: seconds,
    p50Ms: pct(50),
    p90Ms: pct(90),
    p99Ms: pct(99),
    maxMs: sorted.length ? round(sorted[sorted.length - 1]) : null,
    latencySamples: sorted.length,
    non2xx: slices.reduce((a, s) => a + s.non2xx, 0),
    errors: slices.reduce((a, s) => a + s.errors, 0),
    timeouts: slices.reduce((a, s) => a + s.timeouts, 0),
    statusCodes,
    connections,
    // workerd's CPU time (all threads, user + system) per completed request: steadier than req/s on a busy machine.
    workerdCpuMsPerRequest: cpuMs !== null && total > 0 ? round(cpuMs / total) : null,
    memory: { peakRssKiB: peaks.length ? Math.max(...peaks) : null, hwmIsScenarioPeak: slices.every((s) => s.memory?.hwmIsScenarioPeak) },
  };
}

/**
 * Warm-up, then `slices` alternating ceiling/scenario windows of `durationSec / slices` each.
 * Returns the scenario's and its paired ceiling's summaries and their throughput ratio.
 */
export async function runPaired(spec, ceilingSpec, { connections, durationSec, warmupSec, slices }) {
  spec.counter ??= 0;
  ceilingSpec.counter ??= 0;
  const sliceSec = Math.max(1, Math.round(durationSec / slices));
  if (warmupSec > 0) {
    await measure(ceilingSpec, { connections, durationSec: warmupSec, sample: false });
    await measure(spec, { connections, durationSec: warmupSec, sample: false });
  }
  const mine = [];
  const theirs = [];
  const myLat = [];
  const theirLat = [];
  for (let i = 0; i < slices; i++) {
    theirs.push(await measure(ceilingSpec, { connections, durationSec: sliceSec, latencies: theirLat, sample: false }));
    mine.push(await measure(spec, { connections, durationSec: sliceSec, latencies: myLat }));
  }
  const result = summarise(mine, myLat, connections);
  const ceiling = summarise(theirs, theirLat, connections);
  const cpuRatio = result.workerdCpuMsPerRequest && ceiling.workerdCpuMsPerRequest ? round(result.workerdCpuMsPerRequest / ceiling.workerdCpuMsPerRequest) : null;
  return { result, ceiling, cpuRatio, ratio: ceiling.requestsPerSec > 0 ? result.requestsPerSec / ceiling.requestsPerSec : 0, sliceRatios: mine.map((m, i) => round(m.requests / m.durationSec / (theirs[i].requests / theirs[i].durationSec))) };
}

/** One plain timed load (no ceiling pairing), e.g. while a profiler is attached. */
export async function runSingle(spec, { connections, durationSec }) {
  spec.counter ??= 0;
  const latencies = [];
  const slice = await measure(spec, { connections, durationSec, latencies });
  return summarise([slice], latencies, connections);
}
