// Starts `npm run dev` (scripts/dev.mjs) on a free port with throwaway local state, waits until it
// answers, and stops it (and its process group) on demand. Shared by the browser tests and the
// screenshot script, so neither ever touches the developer's .wrangler state.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..", "..");

// Whatever happens to this process (a failed assertion, Ctrl-C), the server's process group goes with it.
const groups = new Set();
const killGroups = () => {
  for (const pid of groups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  }
};
process.on("exit", killGroups);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A request to the dev server with an explicit Host (the tenant is chosen by it). */
export function httpRequest(port, host, method, pathname, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: pathname, headers: { Host: `${host}:${port}`, ...headers } }, (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (data += chunk));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on("error", reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`timeout: ${method} ${pathname}`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export async function startDevServer({ readyTimeoutMs = 120_000, log = false } = {}) {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const state = mkdtempSync(path.join(os.tmpdir(), "console-e2e-"));
  const args = [
    "scripts/dev.mjs", "--port", String(port), "--ip", "127.0.0.1", "--inspector-port", String(inspectorPort),
    "--persist-to", state, "--show-interactive-dev-session=false",
    // The browser clicks faster than a person: fair-use limits are not what these tests check.
    "--var", "RATE_LIMIT_IP_PER_SECOND:10000", "--var", "RATE_LIMIT_TENANT_PER_SECOND:10000",
  ];
  // npm's PATH puts node_modules/.bin (the pinned Node 24 that wrangler needs) first.
  const child = spawn(process.execPath, args, { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" } });
  let output = "";
  const collect = (chunk) => {
    output += chunk;
    if (log) process.stderr.write(chunk);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  let exited = false;
  groups.add(child.pid);
  child.on("exit", () => {
    exited = true;
    groups.delete(child.pid);
  });

  const stop = async () => {
    if (!exited) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      await new Promise((r) => {
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid, "SIGKILL");
          } catch {}
          r();
        }, 5000);
        child.once("exit", () => (clearTimeout(timer), r()));
      });
    }
    rmSync(state, { recursive: true, force: true });
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`dev server exited early:\n${output.slice(-4000)}`);
    }
    try {
      const res = await httpRequest(port, "localhost", "GET", "/openapi.json");
      if (res.status === 200) break;
    } catch {}
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`dev server not ready after ${readyTimeoutMs} ms:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const platformToken = /^PLATFORM_ADMIN_TOKEN=(.*)$/m.exec(readFileSync(path.join(root, ".dev.vars"), "utf8"))[1].trim();

  const platform = async (method, pathname, body) => {
    const res = await httpRequest(port, "localhost", method, pathname, {
      headers: { Authorization: `Bearer ${platformToken}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: res.body ? JSON.parse(res.body) : null };
  };
  return { port, platformToken, stop, platform, output: () => output };
}
