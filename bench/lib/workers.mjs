// Building the production bundles and serving them from workerd through Miniflare's API (no
// `wrangler dev` proxy), plus the workerd process's memory.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

export const root = path.resolve(import.meta.dirname, "..", "..");
const wranglerBin = path.join(root, "node_modules", ".bin", "wrangler");

/**
 * `wrangler deploy --dry-run --outdir`: the exact bundle `wrangler deploy` would upload.
 * Returns the entry module's path, its raw and gzip sizes, and the build time.
 */
export function buildBundle({ config, outdir, compatibilityDate }) {
  const args = ["deploy", "--dry-run", "--outdir", outdir, "--config", config];
  if (compatibilityDate) args.push("--compatibility-date", compatibilityDate);
  const started = performance.now();
  const res = spawnSync(wranglerBin, args, { cwd: root, encoding: "utf8", env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" }, timeout: 120_000 });
  if (res.status !== 0) throw new Error(`wrangler build of ${config} failed:\n${res.stdout}\n${res.stderr}`);
  const buildMs = performance.now() - started;
  const modules = readdirSync(outdir).filter((f) => /\.(m?js|wasm)$/.test(f));
  let raw = 0;
  let gzip = 0;
  for (const f of modules) {
    const bytes = readFileSync(path.join(outdir, f));
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  // wrangler names the entry after `main` (src/index.ts -> index.js).
  const main = /^main\s*=\s*"([^"]+)"/m.exec(readFileSync(path.resolve(root, config), "utf8"))?.[1] ?? "index.ts";
  const entry = path.join(outdir, `${path.basename(main).replace(/\.[cm]?[jt]sx?$/, "")}.js`);
  statSync(entry);
  return { entry, modules, rawBytes: raw, gzipBytes: gzip, buildMs };
}

/** Miniflare options for a wrangler config, with the built bundle as the script. */
function optionsFor({ name, config, scriptPath, bindings, persistDir, inspectorPort, compatibilityDate }) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.resolve(root, config));
  // One pre-built ESM bundle: module rules only matter for unbundled sources.
  const { modulesRules: _rules, ...rest } = workerOptions;
  return convertV4MiniflareOptions({
    ...rest,
    name,
    modules: true,
    scriptPath: path.relative(root, scriptPath),
    rootPath: root,
    bindings: { ...rest.bindings, ...bindings },
    ...(compatibilityDate ? { compatibilityDate } : {}),
    host: "127.0.0.1",
    port: 0,
    logRequests: false,
    ...(persistDir ? { resourcePersistencePath: persistDir } : {}),
    ...(inspectorPort ? { inspectorPort } : {}),
  });
}

/** workerd processes that are children of this Node process. */
function workerdChildren() {
  const pids = new Set();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const m = /^\d+ \((.*)\) \S (\d+)/.exec(stat);
      if (m && m[1] === "workerd" && Number(m[2]) === process.pid) pids.add(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/**
 * Starts one Worker in its own workerd process. `startupMs` runs from the constructor to the
 * first answered request: config load, script compile and top-level evaluation, first request.
 */
export async function startWorker(opts) {
  const before = workerdChildren();
  const started = performance.now();
  const mf = new Miniflare(optionsFor(opts));
  const url = await mf.ready;
  const readyMs = performance.now() - started;
  const probe = await httpRequest(url, { path: "/__bench_probe", host: opts.probeHost ?? "127.0.0.1" });
  const startupMs = performance.now() - started;
  const worker = { name: opts.name, mf, url, readyMs, startupMs, firstStatus: probe.status, pid: null, opts };
  worker.pid = findNewPid(before);
  return worker;
}

function findNewPid(before) {
  const fresh = [...workerdChildren()].filter((p) => !before.has(p));
  return fresh.length === 1 ? fresh[0] : null;
}

/** New bindings (e.g. rate limiting off): Miniflare restarts workerd with the new config. */
export async function reconfigureWorker(worker, bindings) {
  const before = workerdChildren();
  worker.opts = { ...worker.opts, bindings: { ...worker.opts.bindings, ...bindings } };
  await worker.mf.setOptions(optionsFor(worker.opts));
  worker.url = await worker.mf.ready;
  await httpRequest(worker.url, { path: "/__bench_probe" });
  worker.pid = findNewPid(before) ?? (workerdChildren().has(worker.pid) ? worker.pid : null);
  return worker;
}

/** VmRSS / VmHWM of a process in KiB, or null when it cannot be read (not Linux, process gone). */
export function memoryOf(pid) {
  if (!pid) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rssKiB: kib("VmRSS"), hwmKiB: kib("VmHWM") };
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used so far, in ms; null when unreadable. */
export function cpuMsOf(pid) {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of stat(5), i.e. 11 and 12 after the command name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
const CLOCK_TICKS = 100; // USER_HZ on Linux

/**
 * Samples a process's RSS while a scenario runs. Resets the kernel's peak counter first
 * (clear_refs 5) where allowed, so VmHWM is the peak of this scenario rather than of the process.
 */
export function memorySampler(pid, intervalMs = 100) {
  let resetOk = false;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    resetOk = true;
  } catch {
    // Not permitted here: fall back to sampling.
  }
  let peakSampled = memoryOf(pid)?.rssKiB ?? 0;
  const cpuStart = cpuMsOf(pid);
  const timer = setInterval(() => {
    const m = memoryOf(pid);
    if (m && m.rssKiB > peakSampled) peakSampled = m.rssKiB;
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      const cpuEnd = cpuMsOf(pid);
      const cpuMs = cpuStart !== null && cpuEnd !== null ? cpuEnd - cpuStart : null;
      const m = memoryOf(pid);
      if (!m) return { peakRssKiB: peakSampled || null, rssKiB: null, hwmIsScenarioPeak: false, cpuMs };
      const peak = Math.max(peakSampled, m.rssKiB, resetOk ? m.hwmKiB : 0);
      return { peakRssKiB: peak, rssKiB: m.rssKiB, processHwmKiB: m.hwmKiB, hwmIsScenarioPeak: resetOk, cpuMs };
    },
  };
}

/**
 * A plain HTTP/1.1 request with an explicit Host header (Node's fetch refuses to set Host, and
 * the Host header is how the Worker picks the tenant).
 */
export async function httpRequest(baseUrl, { method = "GET", path: p = "/", host, headers = {}, body, timeoutMs = 60_000 }) {
  const { request } = await import("node:http");
  const url = new URL(p, baseUrl);
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        headers: {
          ...(host ? { host } : {}),
          ...(payload !== undefined ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}),
          ...headers,
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${p} timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Compatibility date of a wrangler config, so the ceiling is built for the same runtime. */
export function compatibilityDateOf(config) {
  const text = readFileSync(path.resolve(root, config), "utf8");
  return /^compatibility_date\s*=\s*"([^"]+)"/m.exec(text)?.[1];
}
