#!/usr/bin/env node
/**
 * Webhooks end to end against the real local stack: `npm run dev` (wrangler dev, local D1 and
 * Queues) on a free port with a throw-away --persist-to, and a Node HTTP receiver on 127.0.0.1.
 * Every request the receiver gets is verified with the `standardwebhooks` package.
 *
 * Checks: signatures; tenant A's endpoint never sees tenant B's events; a 500 and a timeout are
 * retried with the same webhook-id; a redelivery; 410 disables the endpoint; after a rotation
 * both secrets verify. Also measures commit -> receiver 2xx delay (p50/p99) and deliveries/s.
 *
 * Run: npm run test:e2e:webhooks   (about a minute; the timeout case waits the real 10 s + 5 s)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Webhook } from "standardwebhooks";

const root = path.resolve(import.meta.dirname, "../..");
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---- the receiver -------------------------------------------------------------------------
/** path -> (request, attempt number for its webhook-id) -> status, or "hang". */
const behaviour = {
  "/flaky": (_r, n) => (n === 1 ? 500 : 200),
  "/slow": (_r, n) => (n === 1 ? "hang" : 200),
  "/gone": () => 410,
};
const received = [];
const seen = new Map();
const receiver = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const id = req.headers["webhook-id"];
    const n = (seen.get(`${req.url}|${id}`) ?? 0) + 1;
    seen.set(`${req.url}|${id}`, n);
    received.push({ path: req.url, headers: req.headers, body, at: Date.now() });
    const answer = (behaviour[req.url] ?? (() => 200))(req, n);
    if (answer === "hang") return setTimeout(() => res.destroy(), 15_000);
    res.writeHead(answer).end("ok");
  });
});

// ---- the API --------------------------------------------------------------------------------
let apiPort;
function api(host, method, p, token, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { host: "127.0.0.1", port: apiPort, method, path: p, headers: { Host: `${host}:${apiPort}`, Authorization: `Bearer ${token}`, ...(data ? { "Content-Type": "application/json" } : {}) } },
      (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => {
          let json = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            json = { text: text.slice(0, 200) };
          }
          resolve({ status: res.statusCode, json });
        });
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

async function waitFor(what, fn, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const v = await fn();
    if (v) return v;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function verify(secret, r) {
  try {
    return new Webhook(secret).verify(r.body, r.headers);
  } catch {
    return null;
  }
}

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main() {
  const receiverPort = await freePort();
  await new Promise((r) => receiver.listen(receiverPort, "127.0.0.1", r));
  const hook = (p) => `http://127.0.0.1:${receiverPort}${p}`;
  apiPort = await freePort();
  const state = mkdtempSync(path.join(os.tmpdir(), "webhooks-e2e-"));
  const dev = spawn("npm", ["run", "dev", "--", "--port", String(apiPort), "--persist-to", state, "--var", "RATE_LIMIT_ENABLED:false"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let log = "";
  dev.stdout.on("data", (c) => (log += c));
  dev.stderr.on("data", (c) => (log += c));
  const stop = () => {
    try {
      process.kill(-dev.pid, "SIGTERM");
    } catch {}
    receiver.close();
    rmSync(state, { recursive: true, force: true });
  };
  try {
    await waitFor("wrangler dev", async () => (await api("localhost", "GET", "/openapi.json", "x").catch(() => ({ status: 0 }))).status === 200, 120_000);
    const platformToken = /^PLATFORM_ADMIN_TOKEN=(.*)$/m.exec(readFileSync(path.join(root, ".dev.vars"), "utf8"))[1].trim();
    const tenant = async (slug) => {
      const res = await api("localhost", "POST", "/platform/tenants", platformToken, { slug, name: slug });
      if (res.status !== 201) throw new Error(`tenant: ${res.status} ${JSON.stringify(res.json)}`);
      return { host: `${slug}.localhost`, token: res.json.token, call: (m, p, b) => api(`${slug}.localhost`, m, p, res.json.token, b) };
    };
    const suffix = Date.now().toString(36);
    const a = await tenant(`a${suffix}`);
    const b = await tenant(`b${suffix}`);
    const register = async (t, p, events = ["user.*"]) => {
      const res = await t.call("POST", "/v1/webhooks", { url: hook(p), events });
      if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(res.json)}`);
      return res.json;
    };
    const user = async (t) => {
      const n = Math.random().toString(36).slice(2);
      const res = await t.call("POST", "/v1/users", { firstName: "Eve", lastName: `Endtoend${n}`, email: `e2e.${n}@example.com`, externalId: `E2E-${n}` });
      if (res.status !== 201) throw new Error(`user: ${res.status} ${JSON.stringify(res.json)}`);
      return res.json;
    };

    // 1. Signatures, and tenants kept apart.
    const epA = await register(a, "/a");
    const epB = await register(b, "/b");
    const ua = await user(a);
    const ub = await user(b);
    const gotA = await waitFor("A's user.created", () => received.find((r) => r.path === "/a" && r.body.includes(ua.id)));
    check(verify(epA.secret, gotA)?.type === "user.created", "A's delivery verifies with A's secret (standardwebhooks)");
    await waitFor("B's user.created", () => received.find((r) => r.path === "/b" && r.body.includes(ub.id)));
    check(!received.some((r) => r.path === "/a" && r.body.includes(ub.id)), "A's endpoint never receives B's events");
    check(received.filter((r) => r.path === "/b").every((r) => verify(epB.secret, r) && !r.body.includes(ua.id)), "B's deliveries verify with B's secret only and hold only B's events");

    // 2. Retries after a 500 and after a timeout, with the same webhook-id.
    const flaky = await register(a, "/flaky", ["user.updated"]);
    await a.call("PATCH", `/v1/users/${ua.id}`, { title: "Engineer" });
    const flakyGot = await waitFor("a retry after 500", () => {
      const got = received.filter((r) => r.path === "/flaky");
      return got.length >= 2 && got;
    });
    check(flakyGot[0].headers["webhook-id"] === flakyGot[1].headers["webhook-id"], "retry after 500 keeps the webhook-id");
    check(flakyGot.every((r) => verify(flaky.secret, r)), "every retry verifies");
    const gap = (flakyGot[1].at - flakyGot[0].at) / 1000;
    check(gap >= 4 && gap <= 8, `first retry about 5 s after the failure (${gap.toFixed(1)} s)`);
    await register(a, "/slow", ["user.deactivated"]);
    await a.call("DELETE", `/v1/users/${ua.id}`);
    const slowGot = await waitFor("a retry after a timeout", () => {
      const got = received.filter((r) => r.path === "/slow");
      return got.length >= 2 && got;
    }, 45_000);
    check(slowGot[0].headers["webhook-id"] === slowGot[1].headers["webhook-id"], `retry after a timeout keeps the webhook-id (${((slowGot[1].at - slowGot[0].at) / 1000).toFixed(1)} s later)`);

    // 3. Redelivery.
    const list = await waitFor("a delivered delivery", async () => (await a.call("GET", `/v1/webhooks/${epA.endpoint.id}/deliveries`)).json.data.find((d) => d.status === "delivered"));
    const before = received.length;
    const re = await a.call("POST", `/v1/webhooks/${epA.endpoint.id}/deliveries/${list.id}/redeliver`);
    check(re.status === 202, "redeliver answers 202");
    const again = await waitFor("the redelivery", () => received.slice(before).find((r) => r.headers["webhook-id"] === list.id));
    check(Boolean(verify(epA.secret, again)), "the redelivery has the same webhook-id and verifies");

    // 4. 410 disables.
    const gone = await register(b, "/gone");
    await user(b);
    const disabled = await waitFor("disable after 410", async () => {
      const ep = (await b.call("GET", `/v1/webhooks/${gone.endpoint.id}`)).json;
      return ep.enabled === false && ep;
    });
    check(disabled.disabledReason === "gone", "410 Gone disables the endpoint");

    // 5. Rotation: both secrets verify during the overlap.
    const rotated = (await a.call("POST", `/v1/webhooks/${epA.endpoint.id}/rotate-secret`)).json;
    const test = (await a.call("POST", `/v1/webhooks/${epA.endpoint.id}/test`)).json;
    const testGot = await waitFor("the test event", () => received.find((r) => r.headers["webhook-id"] === test.deliveryId));
    check(verify(epA.secret, testGot)?.type === "webhook.test" && verify(rotated.secret, testGot)?.type === "webhook.test", "after a rotation both the old and the new secret verify");

    // 6. Measure: commit -> receiver 2xx, sequential; then a burst to one endpoint.
    const delays = [];
    for (let i = 0; i < 20; i++) {
      const sent = Date.now();
      const u = await user(b);
      const got = await waitFor("bench delivery", () => received.find((r) => r.path === "/b" && r.body.includes(u.id)));
      delays.push(got.at - sent);
    }
    console.log(`measure: request -> receiver, 20 sequential creates: p50 ${pct(delays, 50)} ms, p99 ${pct(delays, 99)} ms`);
    const burst = 50;
    const start = received.filter((r) => r.path === "/b").length;
    const t0 = Date.now();
    // 10 writers at a time: local wrangler dev is one process on a shared machine.
    for (let i = 0; i < burst; i += 10) await Promise.all(Array.from({ length: 10 }, () => user(b)));
    await waitFor("burst deliveries", () => received.filter((r) => r.path === "/b").length >= start + burst, 120_000);
    console.log(`measure: ${burst} concurrent creates delivered to one endpoint in ${Date.now() - t0} ms (${((burst * 1000) / (Date.now() - t0)).toFixed(1)} deliveries/s)`);
  } catch (err) {
    failures.push(String(err));
    console.error(err);
    console.error(log.split("\n").slice(-40).join("\n"));
  } finally {
    stop();
  }
  if (failures.length > 0) {
    console.error(`\n${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log("\nwebhooks e2e: all checks passed");
  process.exit(0);
}

main();
