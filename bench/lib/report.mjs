// Results as JSON, Markdown and an SVG bar chart of the ratios (written here, no network).
import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { root } from "./workers.mjs";

export const fmt = (n) => (n === null || n === undefined || Number.isNaN(n) ? "–" : Number(n).toLocaleString("en-US", { maximumFractionDigits: 2 }));
const mib = (kib) => (kib ? `${(kib / 1024).toFixed(0)} MiB` : "–");
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
/** "median (max)" of a per-request count; "–" where nothing was counted (the D1 floor). */
const mm = (c) => (c && c.median !== null ? (c.max === c.median ? `${c.median}` : `${c.median} (${c.max})`) : "–");
const bg = (counts) => {
  const b = counts?.backgroundPerRequest;
  if (!b) return "–";
  const parts = [["D1", b.d1], ["DO", b.do], ["queue", b.queue]].filter(([, v]) => v > 0).map(([k, v]) => `${k} ${fmt(v)}`);
  return parts.length ? parts.join(", ") : "0";
};

function versionOf(pkg, from = root) {
  try {
    return JSON.parse(readFileSync(path.join(from, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return null;
  }
}

export function machineInfo() {
  let cpu = os.cpus()[0]?.model ?? "unknown";
  try {
    cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpu;
  } catch {
    // not Linux
  }
  return {
    cpu,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAvgStart: os.loadavg(),
    versions: {
      wrangler: versionOf("wrangler"),
      miniflare: versionOf("miniflare"),
      workerd: versionOf("workerd", path.join(root, "node_modules", "miniflare")) ?? versionOf("workerd"),
      autocannon: versionOf("autocannon"),
      hono: versionOf("hono"),
    },
  };
}

export function gitInfo() {
  const run = (cmd) => {
    try {
      return execSync(cmd, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return null;
    }
  };
  const status = run("git status --porcelain --untracked-files=no -- . ':!bench/results'");
  return { commit: run("git rev-parse HEAD"), branch: run("git rev-parse --abbrev-ref HEAD"), dirty: status === null ? null : status.length > 0 };
}

export function toMarkdown(r) {
  const lines = [];
  lines.push(`# Benchmark results (${r.mode})`, "");
  lines.push(`- Command: \`${r.command}\``);
  lines.push(`- Date: ${r.startedAt}; commit \`${r.git.commit?.slice(0, 12) ?? "?"}\`${r.git.dirty ? " (uncommitted changes)" : ""} on \`${r.git.branch}\``);
  lines.push(`- Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB RAM, ${r.machine.os}; load average at start ${r.machine.loadAvgStart?.map((x) => x.toFixed(1)).join(" ")}, at end ${r.machine.loadAvgEnd?.map((x) => x.toFixed(1)).join(" ")}`);
  lines.push(`- Runtime: workerd ${r.machine.versions.workerd} via Miniflare ${r.machine.versions.miniflare} API (no wrangler dev proxy), wrangler ${r.machine.versions.wrangler}, Node ${r.machine.node}, autocannon ${r.machine.versions.autocannon}`);
  lines.push(`- Load: ${r.config.connections} connections on 127.0.0.1, ${r.config.durationSec} s per scenario in ${r.config.slices} slices alternating with the ceiling, after ${r.config.warmupSec} s warm-up; tenant of ${fmt(r.config.bigUsers)} users (+ a second tenant of ${fmt(r.config.smallUsers)})`);
  lines.push(`- Ceiling (bare Hono Worker, fixed JSON body, same build and runtime): ${fmt(r.ceiling.requestsPerSec)} req/s on average over the paired slices (${fmt(r.ceiling.min)}–${fmt(r.ceiling.max)} per scenario), p50 ${fmt(r.ceiling.p50Ms)} ms`);
  lines.push("");
  lines.push("| # | Scenario | req/s | × ceiling | p50 ms | p99 ms | non-2xx | errors | workerd CPU ms/req (ceiling) | workerd peak RSS | D1 calls | DO calls | hops | background calls/req |");
  lines.push("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
  for (const s of r.scenarios) {
    const x = s.result;
    const c = s.counts;
    lines.push(`| ${s.key} | ${s.label} | ${fmt(x.requestsPerSec)} | ${s.ratio.toFixed(2)} | ${fmt(x.p50Ms)} | ${fmt(x.p99Ms)} | ${fmt(x.non2xx)} | ${fmt(x.errors + x.timeouts)} | ${fmt(x.workerdCpuMsPerRequest)} (${fmt(s.ceiling.workerdCpuMsPerRequest)}) | ${mib(x.memory?.peakRssKiB)} | ${mm(c?.d1)} | ${mm(c?.do)} | ${mm(c?.hops)} | ${bg(c)} |`);
  }
  for (const p of r.pending) lines.push(`| ${p.id} | ${p.title} | not yet available | | | | | | | | | | | |`);
  lines.push(
    "",
    "× ceiling: the scenario's completed requests over the ceiling's in the paired slices (same connections, same slice length, measured back to back).",
    "workerd CPU ms/req: CPU time of the whole workerd process (the Worker, the local D1 simulator and the HTTP stack) per completed request; on a shared machine it is steadier than req/s.",
    "D1 calls, DO calls, hops: per request, median (max) over every request of the load, counted by the harness's wrapper around the bindings (bench/counting/), not by the Worker. A D1 `batch()` is one call. Hops: the longest chain of remote calls each started after the previous one returned; calls in parallel (the two limiter objects, or a limiter call next to a D1 query) are one hop. Only calls that start and end before the Response is returned count; calls handed to `ctx.waitUntil` or still running then are background calls, given per request. The loads run the Worker inside that wrapper (a few proxies and an AsyncLocalStorage per request); bundle size, cold start and the CPU profiles use the production bundle.",
  );
  lines.push("");
  if (r.timings?.length) {
    lines.push("## Whole operations (scenarios 7 and 8)", "");
    lines.push("| # | What | samples | p50 ms | p99 ms | max ms |", "|---|---|---:|---:|---:|---:|");
    for (const t of r.timings) lines.push(`| ${t.key} | ${t.label} | ${t.count} | ${fmt(t.p50Ms)} | ${fmt(t.p99Ms)} | ${fmt(t.maxMs)} |`);
    lines.push("", "Measured one operation at a time on the same workerd as the loads (rate limits raised), after them.", "");
  }
  if (r.distance?.runs?.length) {
    const d = r.distance;
    lines.push("## Distance run: a far-away D1 and limiter", "");
    lines.push(`The counting wrapper delays every D1 call by ${d.d1DelayMs} ms and every Durable Object call by ${d.doDelayMs} ms (\`BENCH_D1_DELAY_MS\`, \`BENCH_DO_DELAY_MS\`), the round trips a consumer far from the database and the limiter objects would pay; locally each answers in about a millisecond. ${d.connections} connection, requests one after another, so that local queueing is not added to the delays; same workerd and data as the loads above.`, "");
    lines.push("| # | Request | requests | p50 ms | p99 ms | D1 calls | DO calls | hops | p50 target |", "|---|---|---:|---:|---:|---:|---:|---:|---|");
    for (const x of d.runs) {
      const target = x.targetP50Ms ? `≤ ${x.targetP50Ms} ms: ${x.met ? "met" : "**missed**"}` : "";
      lines.push(`| ${x.key} | ${x.label} | ${fmt(x.result.totalRequests)} | ${fmt(x.result.p50Ms)} | ${fmt(x.result.p99Ms)} | ${mm(x.counts.d1)} | ${mm(x.counts.do)} | ${mm(x.counts.hops)} | ${target} |`);
    }
    lines.push("");
  }
  lines.push("## Cold start (scenario 9)", "");
  const c = r.coldStart;
  lines.push(`- Bundle (\`wrangler deploy --dry-run\`): ${kb(r.build.app.rawBytes)} raw, **${kb(r.build.app.gzipBytes)} gzip** (ceiling: ${kb(r.build.ceiling.gzipBytes)} gzip)`);
  lines.push(`- Start-up, median of ${c.repeats} fresh workerd processes, from launch to the first answered request: app ${fmt(c.app.medianStartupMs)} ms, ceiling ${fmt(c.ceiling.medianStartupMs)} ms, so the Worker's own start-up costs about **${fmt(c.workerStartupMs)} ms** (first request after ready: app ${fmt(c.app.medianFirstRequestMs)} ms, ceiling ${fmt(c.ceiling.medianFirstRequestMs)} ms)`);
  lines.push("");
  lines.push("## Targets", "");
  lines.push("| Target | Value | Met |", "|---|---|---|");
  for (const t of r.targets) lines.push(`| ${t.name} | ${t.value} | ${t.met === null ? "n/a" : t.met ? "yes" : "**no**"} |`);
  lines.push("", "Latency targets compare two scenarios. Measured minutes apart on a shared machine their p50s move with everything else running, so each pair is loaded again in interleaved slices (A, B, A, B...) and its p50s compared within the same windows; the table above keeps the p50s of the scenarios' own runs.", "");
  if (r.pending.length) {
    lines.push("## Not yet available", "");
    for (const p of r.pending) lines.push(`- ${p.id}. ${p.title}: ${p.note}${p.probe ? ` (probe: ${p.probe})` : ""}`);
    lines.push("");
  }
  lines.push("## Where the time goes", "");
  lines.push("Per scenario: the request's p50, the ceiling's p50 (HTTP + runtime floor), and the time SQLite spends on the request's queries (D1 `meta.duration`, mean over repeated runs through the D1 binding). The rest is the Worker's own JavaScript (routing, validation, serialisation) and the D1 binding's hop.", "");
  lines.push("| # | p50 ms | ceiling p50 ms | D1 query time ms | rest ms | queries |", "|---|---:|---:|---:|---:|---|");
  for (const p of r.profile) {
    lines.push(`| ${p.key} | ${fmt(p.p50Ms)} | ${fmt(p.ceilingP50Ms)} | ${fmt(p.d1Ms)} | ${fmt(p.restMs)} | ${p.queries.map((q) => `${q.label} ${fmt(q.d1Ms)} ms`).join("; ")} |`);
  }
  lines.push("");
  if (r.cpuProfiles?.length) {
    lines.push("CPU profile of the Worker's isolate under load (inspector sampling, separate run; self time by bundled package or source file, then the hottest functions). `(idle)` is the isolate waiting: for D1, for the network, or for CPU taken by the rest of workerd. Isolate CPU per request: sampled time minus `(idle)` over the requests sent (the profiler keeps sampling until those in flight and their `waitUntil` work are done). The profiler attributes wall time between samples, so on an oversubscribed machine (load average above the core count) time the OS took from workerd inflates it; the whole workerd process's CPU time per request (isolate, D1 simulator, limiter objects, HTTP; from `/proc`) is an upper bound without that bias.", "");
    for (const p of r.cpuProfiles) {
      lines.push(`- ${p.key} ${p.label} (${fmt(p.requests)} requests, ${fmt(p.totalMs)} ms sampled, **${fmt(p.cpuMsPerRequest)} ms isolate CPU per request** with idle excluded; whole workerd process ${fmt(p.processCpuMsPerRequest)} ms): ${p.byGroup.map((g) => `${g.name} ${g.percent}%`).join(", ")}`);
      lines.push(`  - hottest: ${p.byFunction.slice(0, 6).map((f) => `\`${f.name}\` ${f.percent}%`).join(", ")}`);
    }
    lines.push("");
  }
  lines.push("Query plans (EXPLAIN QUERY PLAN):", "");
  const seen = new Set();
  for (const p of r.profile) {
    for (const q of p.queries) {
      if (seen.has(q.sql)) continue;
      seen.add(q.sql);
      lines.push(`- ${q.label}: \`${q.sql}\` → ${q.plan.map((d) => `\`${d}\``).join(", ")}`);
    }
  }
  lines.push("");
  lines.push("## Seeding (outside the timed windows)", "");
  for (const s of r.seeding) lines.push(`- ${s.tenant}: ${fmt(s.count)} users by ${s.method} INSERTs in ${fmt(s.ms / 1000)} s (${fmt(Math.round(s.rowsPerSecond))} rows/s, ${fmt(s.batches)} batch() calls)`);
  lines.push("");
  return lines.join("\n");
}

/** Horizontal bars of each scenario's throughput as a share of the ceiling. */
export function toSvg(r) {
  const rows = r.scenarios.map((s) => ({ label: `${s.key}  ${s.label}`, ratio: s.ratio }));
  for (const p of r.pending) rows.push({ label: `${p.id}  ${p.title.split(":")[0].slice(0, 60)} (not yet available)`, ratio: null });
  const labelW = 470;
  const barW = 420;
  const rowH = 26;
  const top = 56;
  const height = top + rows.length * rowH + 40;
  const width = labelW + barW + 80;
  const maxRatio = Math.max(1, ...rows.map((x) => x.ratio ?? 0));
  const xOf = (v) => labelW + (v / maxRatio) * barW;
  const esc = (s) => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  const parts = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  parts.push(`<text x="12" y="22" font-size="15" font-weight="600">Throughput as a share of the bare-Worker ceiling (${esc(r.mode)}: ${fmt(r.config.bigUsers)} users, ${r.config.connections} connections)</text>`);
  parts.push(`<text x="12" y="40" fill="#555">ceiling ${fmt(Math.round(r.ceiling.requestsPerSec))} req/s · ${esc(r.machine.cpu)} · ${r.machine.cores} cores · commit ${esc(r.git.commit?.slice(0, 10) ?? "?")}</text>`);
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    parts.push(`<text x="12" y="${y + 17}">${esc(row.label.length > 72 ? `${row.label.slice(0, 71)}…` : row.label)}</text>`);
    if (row.ratio === null) {
      parts.push(`<text x="${labelW + 4}" y="${y + 17}" fill="#999">–</text>`);
      return;
    }
    const w = Math.max(1, xOf(row.ratio) - labelW);
    parts.push(`<rect x="${labelW}" y="${y + 5}" width="${w.toFixed(1)}" height="${rowH - 10}" fill="${row.ratio >= 0.5 ? "#2f855a" : "#c05621"}"/>`);
    parts.push(`<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 17}">${row.ratio.toFixed(2)}</text>`);
  });
  const axisY = top + rows.length * rowH + 4;
  for (const [v, text] of [[0.5, "0.5 target (scenario 1)"], [1, "ceiling"]]) {
    const x = xOf(v).toFixed(1);
    parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${axisY}" stroke="#333" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${x}" y="${axisY + 16}" text-anchor="middle" fill="#333">${text}</text>`);
  }
  parts.push(`</svg>`);
  return parts.join("\n");
}
