// Load generation with autocannon: loopback, fixed connections, bounded in time, optional warm-up.
import autocannon from "autocannon";
import { memorySampler } from "./workers.mjs";

function once(opts) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
    // Keep our own output clean; autocannon's progress bar is for interactive use.
    instance.on("error", () => {});
  });
}

/**
 * Runs one timed load against `worker`. `request(i)` returns {method, path, body?} for the i-th
 * request (shared counter across connections), so every request can look up a different user.
 */
export async function runLoad(worker, { host, token, request, connections, durationSec, warmupSec = 1, maxRequests }) {
  let counter = 0;
  // autocannon's histogram keeps whole milliseconds; loopback latencies need finer ones.
  let latencies = [];
  const MAX_SAMPLES = 5_000_000;
  const headers = { host, accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const requests = [
    {
      setupRequest(req, context) {
        context.sentAt = process.hrtime.bigint();
        const r = request(counter++);
        req.method = r.method ?? "GET";
        req.path = r.path;
        if (r.body !== undefined) {
          req.body = JSON.stringify(r.body);
          req.headers = { ...req.headers, "content-type": r.contentType ?? "application/json" };
        } else {
          req.body = undefined;
        }
        return req;
      },
      onResponse(status, _body, context) {
        if (context.sentAt !== undefined && latencies.length < MAX_SAMPLES && status >= 200 && status < 300) {
          latencies.push(Number(process.hrtime.bigint() - context.sentAt) / 1e6);
        }
      },
    },
  ];
  const base = {
    url: worker.url.origin,
    connections,
    pipelining: 1,
    headers,
    requests,
    timeout: 30,
    // Body of every response read and discarded; we only count statuses.
    excludeErrorStats: false,
  };
  if (warmupSec > 0) await once({ ...base, duration: warmupSec });
  latencies = [];
  const sampler = memorySampler(worker.pid);
  const result = await once({ ...base, duration: durationSec, ...(maxRequests ? { amount: maxRequests } : {}) });
  const memory = sampler.stop();
  const sorted = Float64Array.from(latencies).sort();
  const pct = (p) => (sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]) : null);
  return {
    // Completed requests over the timed window (autocannon's per-second mean).
    requestsPerSec: result.requests.average,
    totalRequests: result.requests.total,
    p50Ms: pct(50),
    p90Ms: pct(90),
    p99Ms: pct(99),
    maxMs: sorted.length ? round(sorted[sorted.length - 1]) : null,
    latencySamples: sorted.length,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: result.statusCodeStats,
    durationSec: result.duration,
    connections,
    memory,
  };
}

const round = (v) => Math.round(v * 1000) / 1000;
