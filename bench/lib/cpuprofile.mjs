// A CPU profile of the Worker's isolate under load, through workerd's inspector (Chrome DevTools
// protocol), summarised by source module of the bundle (esbuild marks each module with a
// `// path` comment) and by function. Runs on its own Worker instance, after the timed loads,
// because an attached profiler slows the isolate down.
import { createServer } from "node:net";
import { readFileSync } from "node:fs";

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function connect(url, timeoutMs = 10_000) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`inspector ${url} did not open`)), timeoutMs);
    ws.onopen = () => (clearTimeout(t), resolve());
    ws.onerror = (e) => (clearTimeout(t), reject(new Error(`inspector ${url}: ${e.message ?? "error"}`)));
  });
  let next = 0;
  const pending = new Map();
  ws.onmessage = (ev) => {
    const msg = JSON.parse(typeof ev.data === "string" ? ev.data : Buffer.from(ev.data).toString("utf8"));
    if (msg.id !== undefined && pending.has(msg.id)) {
      const { resolve, reject, timer } = pending.get(msg.id);
      clearTimeout(timer);
      pending.delete(msg.id);
      if (msg.error) reject(new Error(`${msg.error.message}`));
      else resolve(msg.result);
    }
  };
  return {
    send(method, params = {}, ms = 60_000) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => (pending.delete(id), reject(new Error(`${method} timed out`))), ms);
        pending.set(id, { resolve, reject, timer });
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    close: () => ws.close(),
  };
}

/** The inspector target of a Miniflare worker, e.g. `core:user:app`. */
export async function inspectorTarget(port, workerName) {
  const res = await fetch(`http://127.0.0.1:${port}/json/list`);
  const list = await res.json();
  const target = list.find((t) => t.id === `core:user:${workerName}` || t.title?.includes(workerName)) ?? list[0];
  if (!target?.webSocketDebuggerUrl) throw new Error(`no inspector target for ${workerName}: ${JSON.stringify(list).slice(0, 300)}`);
  return target.webSocketDebuggerUrl;
}

/** Starts sampling; the returned function stops it and resolves to the raw profile. */
export async function startProfile(wsUrl, samplingIntervalUs = 200) {
  const session = await connect(wsUrl);
  await session.send("Profiler.enable");
  await session.send("Profiler.setSamplingInterval", { interval: samplingIntervalUs });
  await session.send("Profiler.start");
  return async () => {
    const { profile } = await session.send("Profiler.stop");
    await session.send("Profiler.disable").catch(() => {});
    session.close();
    return profile;
  };
}

/** Line (0-based) -> bundle module, from esbuild's `// node_modules/...` / `// src/...` markers. */
function moduleMap(bundlePath) {
  const lines = readFileSync(bundlePath, "utf8").split("\n");
  const starts = [];
  lines.forEach((line, i) => {
    const m = /^\/\/ ((?:node_modules|src|\.\.)\/\S+)$/.exec(line);
    if (m) starts.push([i, m[1]]);
  });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = "(bundle prelude)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid][0] <= line) {
        found = starts[mid][1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/** Groups a module path into something readable: the npm package, or the src/ file. */
function groupOf(modulePath) {
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(modulePath);
  if (nm) return nm[1];
  return modulePath;
}

/** Self time by package / src file, by function, and the isolate's idle and GC shares. */
export function summariseProfile(profile, bundlePath, top = 12) {
  const toModule = moduleMap(bundlePath);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let total = 0;
  const groups = new Map();
  const funcs = new Map();
  for (const [id, us] of self) {
    total += us;
    const cf = byId.get(id).callFrame;
    let group;
    let fn;
    if (cf.functionName.startsWith("(") && cf.url === "") {
      group = cf.functionName; // (idle), (program), (garbage collector), (root)
      fn = cf.functionName;
    } else if (cf.url.endsWith(".js") && cf.url.includes("index")) {
      const mod = toModule(cf.lineNumber);
      group = groupOf(mod);
      fn = `${cf.functionName || "(anonymous)"} [${mod}]`;
    } else {
      group = cf.url ? `runtime: ${cf.url.split("/").pop()}` : "runtime (native)";
      fn = `${cf.functionName || "(anonymous)"} ${cf.url || "native"}`;
    }
    groups.set(group, (groups.get(group) ?? 0) + us);
    funcs.set(fn, (funcs.get(fn) ?? 0) + us);
  }
  const share = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, percent: Math.round((1000 * us) / total) / 10 }));
  // Busy: everything but (idle), i.e. the isolate's JavaScript, GC and runtime work.
  const busyUs = total - (groups.get("(idle)") ?? 0);
  return { totalMs: Math.round(total / 1000), busyMs: Math.round(busyUs / 100) / 10, samples: profile.samples.length, byGroup: share(groups), byFunction: share(funcs) };
}
