// The benchmark's Worker entry: the production Worker (src/index.ts) with its bindings wrapped so
// that every remote call a request makes is counted, and optionally delayed to play a far-away
// D1 / Durable Object. The counting lives here, in the harness, not in the Worker's code.
// bench/lib/counting.mjs builds it with wrangler from a generated copy of wrangler.toml whose
// only differences are `main` (this file) and the `nodejs_als` flag (AsyncLocalStorage, below).
//
// Per request, on the Response: X-Bench-D1-Calls, X-Bench-DO-Calls, X-Bench-Queue-Calls and
// X-Bench-Hops (see tracker.mjs). Per isolate: GET /__bench/counters[?reset=1] answers the
// histogram of those counts plus the background calls (after or outlasting the response).
//
// Variables (strings, like every var): BENCH_D1_DELAY_MS, BENCH_DO_DELAY_MS (default 0).
import { AsyncLocalStorage } from "node:async_hooks";
import worker from "../../src/index.ts";
import { bindingWrappers } from "./bindings.mjs";
import { IsolateStats, RequestTracker } from "./tracker.mjs";

// Durable Object classes (RateLimiter, and any added later) must be exported by the entry.
export * from "../../src/index.ts";

const stats = new IsolateStats();
const delays = { d1: 0, do: 0 };
// The wrapped bindings are shared by concurrent requests (and may be cached by src/ across
// requests), so the request a call belongs to comes from the async context, not from the env.
const current = new AsyncLocalStorage();
const NOT_COUNTED = { finish() {} };

const { wrapEnv } = bindingWrappers({
  delays,
  begin(kind) {
    const tracker = current.getStore();
    if (!tracker) {
      stats.untracked[kind] += 1;
      return NOT_COUNTED;
    }
    const call = tracker.start(kind);
    return { finish: () => tracker.finish(call) };
  },
});

// One wrapped env per env object workerd hands us, so identity-keyed caches in src/ still hit.
const wrapped = new WeakMap();
function prepare(env) {
  delays.d1 = Number(env.BENCH_D1_DELAY_MS ?? 0) || 0;
  delays.do = Number(env.BENCH_DO_DELAY_MS ?? 0) || 0;
  let w = wrapped.get(env);
  if (!w) wrapped.set(env, (w = wrapEnv(env)));
  return w;
}

/** The ExecutionContext the Worker sees: waitUntil also tells the tracker (see tracker.mjs). */
function trackedContext(ctx, tracker) {
  return new Proxy(ctx, {
    get(target, prop) {
      if (prop === "waitUntil") {
        return (promise) => {
          tracker.waitUntil();
          return target.waitUntil(promise);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

function countersResponse(url) {
  const body = JSON.stringify(stats);
  if (url.searchParams.has("reset")) stats.reset();
  return new Response(body, { headers: { "content-type": "application/json" } });
}

function withCounts(response, counts) {
  const headers = { "X-Bench-D1-Calls": counts.d1, "X-Bench-DO-Calls": counts.do, "X-Bench-Queue-Calls": counts.queue, "X-Bench-Hops": counts.hops };
  let res = response;
  try {
    for (const [k, v] of Object.entries(headers)) res.headers.set(k, String(v));
  } catch {
    // Immutable headers (a Response from fetch()): copy it.
    res = new Response(response.body, response);
    for (const [k, v] of Object.entries(headers)) res.headers.set(k, String(v));
  }
  return res;
}

const handlers = {
  async fetch(request, env, ctx) {
    if (request.url.includes("/__bench/")) {
      const url = new URL(request.url);
      if (url.pathname === "/__bench/counters") return countersResponse(url);
    }
    const wenv = prepare(env);
    const tracker = new RequestTracker(stats);
    let response;
    let counts;
    try {
      response = await current.run(tracker, () => worker.fetch(request, wenv, trackedContext(ctx, tracker)));
    } finally {
      // Also when the Worker throws: its calls still happened.
      counts = tracker.close();
    }
    return withCounts(response, counts);
  },
};
// Queue consumer and cron run with the same (delayed) bindings; their calls count as untracked.
for (const [name, handler] of Object.entries(worker)) {
  if (name !== "fetch" && typeof handler === "function") handlers[name] = (event, env, ctx) => handler.call(worker, event, prepare(env), ctx);
}

export default handlers;
