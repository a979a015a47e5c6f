/**
 * Rate limits through the real Worker and real limiter Durable Objects.
 *
 * The suite-wide defaults are raised in vitest.config.ts so that other suites are not throttled;
 * these tests give their tenants the production numbers (10 per IP, 50 per tenant) through the
 * platform API, and use a fresh client IP per scenario. Bursts are sent concurrently, so they
 * land well within one second; the sliding window needs no alignment to a clock second.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { readLimitConfig } from "../src/limits/config";
import { RateLimiter } from "../src/limits/durable-object";
import { clientIp } from "../src/limits/middleware";
import { BASE, createTenant, newUser, platform, PLATFORM_TOKEN, problem, type TestTenant } from "./helpers";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let ipCounter = 0;
/** A client IP no other scenario uses. */
function freshIp(): string {
  ipCounter += 1;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

const PRODUCTION_LIMITS = { ipPerSecond: 10, tenantPerSecond: 50 };

async function limitedTenant(limits: { ipPerSecond?: number | null; tenantPerSecond?: number | null } = PRODUCTION_LIMITS) {
  const t = await createTenant();
  const res = await platform(`/platform/tenants/${t.slug}`, { method: "PATCH", body: { rateLimits: limits } });
  expect(res.status).toBe(200);
  // A user to read, created from its own IP so that no scenario's IP counter is touched.
  const created = await t.call("/v1/users", { body: newUser(), headers: { "CF-Connecting-IP": freshIp() } });
  expect(created.status).toBe(201);
  const user = (await created.json()) as { id: string };
  // Start the scenario with an empty tenant window.
  await sleep(1050);
  return { t, userPath: `/v1/users/${user.id}` };
}

function get(t: TestTenant, path: string, ip?: string): Promise<Response> {
  return t.call(path, { headers: ip ? { "CF-Connecting-IP": ip } : {} });
}

function statuses(responses: Response[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of responses) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

function limiter(key: string) {
  return env.RATE_LIMITER.getByName(key);
}

/** Net admissions so far (independent of when the window moves on). */
async function admitted(key: string): Promise<number> {
  return (await limiter(key).inspect()).admittedTotal;
}

/** The RateLimit fields agree with each other and with the X-RateLimit-* fields. */
function expectConsistentHeaders(res: Response, kind: "ip" | "tenant", limit: number) {
  const policy = res.headers.get("RateLimit-Policy");
  const state = res.headers.get("RateLimit");
  expect(policy).toBe(`"${kind}";q=${limit};w=1`);
  const match = new RegExp(`^"${kind}";r=(\\d+);t=(\\d+)$`).exec(state ?? "");
  expect(match, `RateLimit: ${state}`).not.toBeNull();
  const remaining = Number(match![1]);
  const reset = Number(match![2]);
  expect(res.headers.get("X-RateLimit-Limit")).toBe(String(limit));
  expect(res.headers.get("X-RateLimit-Remaining")).toBe(String(remaining));
  const resetAt = Number(res.headers.get("X-RateLimit-Reset"));
  const nowSec = Date.now() / 1000;
  expect(resetAt).toBeGreaterThanOrEqual(Math.floor(nowSec));
  expect(resetAt).toBeLessThanOrEqual(Math.ceil(nowSec) + reset + 1);
  expect(remaining).toBeLessThanOrEqual(limit);
  return { remaining, reset };
}

/** Creates the limiter objects ahead of a timed burst (a fresh object's first call is slow locally). */
async function warm(...keys: string[]): Promise<void> {
  await Promise.all(keys.map((key) => limiter(key).inspect()));
}

/**
 * Sends `count` concurrent requests made by `prepare()`'s function (fresh IPs per attempt). The
 * claims under test hold for requests inside one second. A burst that took a second or more on a
 * busy machine and came out other than `expected` is retried in a fresh window; a faster burst is
 * returned as it is, so a limiter that admits too many cannot pass.
 */
async function burst(count: number, prepare: () => Promise<(i: number) => Promise<Response>>, expected: Record<number, number>): Promise<Response[]> {
  let responses: Response[] = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    const request = await prepare();
    const started = Date.now();
    responses = await Promise.all(Array.from({ length: count }, (_, i) => request(i)));
    const elapsed = Date.now() - started;
    const counts = statuses(responses);
    const asExpected = Object.keys(expected).length === Object.keys(counts).length && Object.entries(expected).every(([k, v]) => counts[Number(k)] === v);
    if (asExpected || elapsed < 1000) return responses;
    console.warn(`a burst of ${count} took ${elapsed} ms (${JSON.stringify(counts)}); retrying in a fresh window`);
    await sleep(1050);
  }
  return responses;
}

afterEach(() => {
  vi.restoreAllMocks();
});

// These count real requests inside the limiter objects' one-second windows, so a machine too busy to
// send a burst within one second can split it across two windows: retried, never loosened.
describe("per-IP limit", { retry: 2 }, () => {
  it("admits exactly 10 concurrent requests from one IP, refuses the 11th, and serves another IP", async () => {
    const { t, userPath } = await limitedTenant();
    const responses = await burst(11, async () => {
      const ip = freshIp();
      await warm(`ip:${ip}`, `tenant:${t.id}`);
      return () => get(t, userPath, ip);
    }, { 200: 10, 429: 1 });
    expect(statuses(responses)).toEqual({ 200: 10, 429: 1 });

    const refused = responses.find((r) => r.status === 429)!;
    const body = await problem(refused);
    expect(body).toMatchObject({ status: 429, code: "rate_limited", limit: "ip", reason: "limit_exceeded", violatedPolicies: ["ip"] });
    expect(body.detail).toContain("10 requests per second per client IP");
    expect(refused.headers.get("Retry-After")).toBe("1");
    expectConsistentHeaders(refused, "ip", 10);
    expect(refused.headers.get("RateLimit")).toBe('"ip";r=0;t=1');
    expect(refused.headers.get("X-Request-Id")).toBeTruthy();

    // The admitted ones counted down 9..0 on the tighter (IP) counter.
    const remaining = responses.filter((r) => r.status === 200).map((r) => expectConsistentHeaders(r, "ip", 10).remaining);
    expect(remaining.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    const other = await get(t, userPath, freshIp());
    expect(other.status).toBe(200);
    expectConsistentHeaders(other, "ip", 10);
  });

  it("keeps refusing within the window and serves the IP again after Retry-After", async () => {
    const { t, userPath } = await limitedTenant();
    let ip = "";
    const responses = await burst(11, async () => {
      ip = freshIp();
      await warm(`ip:${ip}`, `tenant:${t.id}`);
      return () => get(t, userPath, ip);
    }, { 200: 10, 429: 1 });
    expect(statuses(responses)).toEqual({ 200: 10, 429: 1 });
    const retryAfter = Number(responses.find((r) => r.status === 429)!.headers.get("Retry-After"));
    expect(retryAfter).toBe(1);

    // Still refused right away (from the isolate cache: the object is not asked)...
    const refusalsSeen = async () => (await limiter(`ip:${ip}`).inspect()).rejectionsInBlockWindow;
    expect(await refusalsSeen()).toBe(1);
    const again = await get(t, userPath, ip);
    expect(again.status).toBe(429);
    expectConsistentHeaders(again, "ip", 10);
    expect(await refusalsSeen()).toBe(1);
    // ...and served once Retry-After has passed.
    await sleep(retryAfter * 1000 + 50);
    const later = await get(t, userPath, ip);
    expect(later.status).toBe(200);
    expectConsistentHeaders(later, "ip", 10);
    // The refusal answered from the cache was reported with that call.
    expect(await refusalsSeen()).toBe(2);
  });

  it("counts requests without CF-Connecting-IP under one shared key", async () => {
    expect(clientIp(undefined)).toBe("unknown");
    expect(clientIp("not an ip; drop table")).toBe("unknown");
    expect(clientIp(" 2001:DB8::1 ")).toBe("2001:db8::1");
    const { t, userPath } = await limitedTenant();
    let before = 0;
    const responses = await burst(11, async () => {
      await sleep(1050); // the shared key may have been used by the set-up requests
      before = await admitted("ip:unknown");
      return () => get(t, userPath);
    }, { 200: 10, 429: 1 });
    expect(statuses(responses)).toEqual({ 200: 10, 429: 1 });
    expect((await admitted("ip:unknown")) - before).toBe(10);
  });
});

describe("per-tenant limit", { retry: 2 }, () => {
  it("admits exactly 50 of 51 concurrent requests from six IPs; another tenant is unaffected", async () => {
    const { t, userPath } = await limitedTenant();
    const { t: other, userPath: otherPath } = await limitedTenant();
    let ips: string[] = [];
    let tenantBefore = 0;
    const responses = await burst(51, async () => {
      ips = Array.from({ length: 6 }, freshIp);
      await warm(`tenant:${t.id}`, ...ips.map((ip) => `ip:${ip}`));
      tenantBefore = await admitted(`tenant:${t.id}`);
      return (i) => get(t, userPath, ips[i % ips.length]);
    }, { 200: 50, 429: 1 });
    expect(statuses(responses)).toEqual({ 200: 50, 429: 1 });

    const refused = responses.find((r) => r.status === 429)!;
    expect(await problem(refused)).toMatchObject({ code: "rate_limited", limit: "tenant", violatedPolicies: ["tenant"] });
    expect(refused.headers.get("Retry-After")).toBe("1");
    expectConsistentHeaders(refused, "tenant", 50);

    // The refused request's IP admission was given back: the IP counters hold exactly the 50.
    await vi.waitFor(async () => {
      const counts = await Promise.all(ips.map((ip) => admitted(`ip:${ip}`)));
      expect(counts.reduce((sum, n) => sum + n, 0)).toBe(50);
    });
    expect((await admitted(`tenant:${t.id}`)) - tenantBefore).toBe(50);

    // Another tenant, from the very same IPs' neighbours, is served.
    const otherBefore = await admitted(`tenant:${other.id}`);
    const otherRes = await get(other, otherPath, freshIp());
    expect(otherRes.status).toBe(200);
    expect((await admitted(`tenant:${other.id}`)) - otherBefore).toBe(1);

    // The tenant is served again after the window.
    await sleep(1050);
    expect((await get(t, userPath, freshIp())).status).toBe(200);
  });

  it("a request refused by the IP limit does not use the tenant's quota", async () => {
    const { t, userPath } = await limitedTenant();
    let before = 0;
    const responses = await burst(15, async () => {
      const ip = freshIp();
      await warm(`ip:${ip}`, `tenant:${t.id}`);
      before = await admitted(`tenant:${t.id}`);
      return () => get(t, userPath, ip);
    }, { 200: 10, 429: 5 });
    expect(statuses(responses)).toEqual({ 200: 10, 429: 5 });
    await vi.waitFor(async () => expect((await admitted(`tenant:${t.id}`)) - before).toBe(10));
  });

  it("applies a per-tenant override, shows it in the tenant view, and restores the default with null", async () => {
    const { t, userPath } = await limitedTenant({ ipPerSecond: 100, tenantPerSecond: 3 });
    const view = (await (await platform(`/platform/tenants/${t.slug}`)).json()) as Record<string, any>;
    expect(view.rateLimits).toEqual({ enabled: true, ipPerSecond: 100, tenantPerSecond: 3, overrides: { ipPerSecond: 100, tenantPerSecond: 3 } });

    const responses = await burst(4, async () => () => get(t, userPath, freshIp()), { 200: 3, 429: 1 });
    expect(statuses(responses)).toEqual({ 200: 3, 429: 1 });
    expectConsistentHeaders(responses.find((r) => r.status === 429)!, "tenant", 3);
    // With 3 per tenant and 100 per IP, the tenant counter is the tighter one on 2xx.
    expectConsistentHeaders(responses.find((r) => r.status === 200)!, "tenant", 3);

    const reset = await platform(`/platform/tenants/${t.slug}`, { method: "PATCH", body: { rateLimits: { tenantPerSecond: null } } });
    expect(reset.status).toBe(200);
    const defaults = readLimitConfig(env as never);
    expect(((await reset.json()) as Record<string, any>).rateLimits).toEqual({
      enabled: true,
      ipPerSecond: 100,
      tenantPerSecond: defaults.tenantPerSecond,
      overrides: { ipPerSecond: 100, tenantPerSecond: null },
    });
    await sleep(1050);
    const after = await Promise.all(Array.from({ length: 4 }, () => get(t, userPath, freshIp())));
    expect(statuses(after)).toEqual({ 200: 4 });
  });

  it("rejects invalid overrides, naming the field", async () => {
    const t = await createTenant();
    for (const value of [0, 1.5, "10", 100_001]) {
      const res = await platform(`/platform/tenants/${t.slug}`, { method: "PATCH", body: { rateLimits: { ipPerSecond: value } } });
      expect(res.status).toBe(400);
      const body = await problem(res);
      expect(body.code).toBe("validation_failed");
      expect(body.errors[0].path).toBe("rateLimits.ipPerSecond");
    }
    const unknown = await platform(`/platform/tenants/${t.slug}`, { method: "PATCH", body: { rateLimits: { perMinute: 5 } } });
    expect((await problem(unknown)).errors[0].path).toBe("rateLimits.perMinute");
  });
});

describe("headers", { retry: 2 }, () => {
  it("are on every response: 2xx, errors after the limiter, the platform API and discovery documents", async () => {
    const { t, userPath } = await limitedTenant();
    const ip = freshIp();
    const ok = await get(t, userPath, ip);
    expect(ok.status).toBe(200);
    expectConsistentHeaders(ok, "ip", 10);

    // Authentication runs after the limiter: a 401 carries the headers and counts.
    const unauthorized = await t.call(userPath, { token: "nope", headers: { "CF-Connecting-IP": ip } });
    expect(unauthorized.status).toBe(401);
    expect(expectConsistentHeaders(unauthorized, "ip", 10).remaining).toBe(8);

    const missing = await get(t, "/v1/users/00000000-0000-7000-8000-000000000000", ip);
    expect(missing.status).toBe(404);
    expect(expectConsistentHeaders(missing, "ip", 10).remaining).toBe(7);

    const defaults = readLimitConfig(env as never);
    const platformRes = await platform("/platform/tenants", { headers: { "CF-Connecting-IP": ip } });
    expect(platformRes.status).toBe(200);
    expectConsistentHeaders(platformRes, "ip", defaults.ipPerSecond);
    const spec = await fetchVia(`https://${t.host}/openapi.json`, ip);
    expect(spec.status).toBe(200);
    expectConsistentHeaders(spec, "ip", defaults.ipPerSecond);
  });

  it("the platform API and /openapi.json count against the IP limit but not the tenant limit", async () => {
    const { t, userPath } = await limitedTenant();
    const ip = freshIp();
    const before = await admitted(`tenant:${t.id}`);
    for (let i = 0; i < 5; i++) expect((await platform("/platform/tenants?limit=1", { headers: { "CF-Connecting-IP": ip } })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await fetchVia(`https://${t.host}/openapi.json`, ip)).status).toBe(200);
    expect((await fetchVia(`https://${BASE}/docs`, ip)).status).toBe(200);
    // Eleven requests from this IP within the second: the tenant (10 per IP) refuses it...
    const refused = await get(t, userPath, ip);
    expect(refused.status).toBe(429);
    expect((await problem(refused)).limit).toBe("ip");
    // ...while the tenant counter was never touched.
    await vi.waitFor(async () => expect(await admitted(`tenant:${t.id}`)).toBe(before));
  });
});

function fetchVia(url: string, ip: string): Promise<Response> {
  return exports.default.fetch(new Request(url, { headers: { "CF-Connecting-IP": ip } }));
}

describe("automatic blocking", () => {
  /**
   * Concurrent batches until more than the threshold (100) of refusals: the first refusals come
   * from the object, most later ones from the isolate cache, which reports them with the next
   * call it lets through to the object. Admissions depend on how many windows the flood spans.
   */
  async function hammer(t: TestTenant, path: string, ip: string) {
    const counts: Record<number, number> = {};
    const reasons = new Set<string>();
    for (let round = 0; round < 100 && (counts[429] ?? 0) < 110; round++) {
      const batch = await Promise.all(Array.from({ length: 25 }, () => get(t, path, ip)));
      for (const res of batch) {
        counts[res.status] = (counts[res.status] ?? 0) + 1;
        if (res.status === 429) reasons.add((await problem(res)).reason);
      }
    }
    expect(counts[429]).toBeGreaterThanOrEqual(110);
    expect(counts[200]).toBeGreaterThanOrEqual(10);
    expect(Object.keys(counts).sort()).toEqual(["200", "429"]);
    expect(reasons.has("limit_exceeded")).toBe(true);
  }

  it("blocks an IP that keeps hammering after 429s, lists the block, spares the tenant counter, and expires", async () => {
    const { t, userPath } = await limitedTenant();
    const ip = freshIp();
    await hammer(t, userPath, ip);
    // Refusals the isolate answered from its cache reach the object with the next call at the latest.
    await sleep(1050);
    const blocked = await get(t, userPath, ip);
    expect(blocked.status).toBe(429);
    const body = await problem(blocked);
    expect(body).toMatchObject({ code: "rate_limited", limit: "ip", reason: "blocked" });
    const blockSeconds = Number(env.RATE_LIMIT_BLOCK_SECONDS);
    const retryAfter = Number(blocked.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(blockSeconds - 1);
    expect(retryAfter).toBeLessThanOrEqual(blockSeconds);
    expect(blocked.headers.get("RateLimit")).toBe(`"ip";r=0;t=${retryAfter}`);

    const list = await platform("/platform/blocks");
    expect(list.status).toBe(200);
    const listed = ((await list.json()) as { data: Record<string, any>[] }).data.find((b) => b.ip === ip);
    expect(listed).toBeDefined();
    expect(listed!.rejections).toBeGreaterThan(100);
    expect(Date.parse(listed!.blockedUntil)).toBeGreaterThan(Date.now());

    // While blocked the IP is refused without touching the tenant counter.
    await sleep(1050);
    const before = await admitted(`tenant:${t.id}`);
    for (let i = 0; i < 5; i++) expect((await get(t, userPath, ip)).status).toBe(429);
    expect(await admitted(`tenant:${t.id}`)).toBe(before);
    // Other IPs are served meanwhile.
    expect((await get(t, userPath, freshIp())).status).toBe(200);

    // The block expires.
    const state = await limiter(`ip:${ip}`).inspect();
    await sleep(state.blockedUntil! - Date.now() + 50);
    expect((await get(t, userPath, ip)).status).toBe(200);
    const after = (await (await platform("/platform/blocks")).json()) as { data: { ip: string }[] };
    expect(after.data.map((b) => b.ip)).not.toContain(ip);
  });

  it("lifts a block through the platform API", async () => {
    const { t, userPath } = await limitedTenant();
    const ip = freshIp();
    await hammer(t, userPath, ip);
    // Refusals answered from the isolate cache reach the object with the next call it gets.
    await sleep(1050);
    const blocked = await get(t, userPath, ip);
    expect(blocked.status).toBe(429);
    expect((await problem(blocked)).reason).toBe("blocked");

    expect((await platform(`/platform/blocks/${ip}`, { method: "DELETE" })).status).toBe(204);
    expect((await get(t, userPath, ip)).status).toBe(200);
    const again = await platform(`/platform/blocks/${ip}`, { method: "DELETE" });
    expect(again.status).toBe(404);
    expect((await problem(again)).code).toBe("not_found");
    const invalid = await platform("/platform/blocks/not-an-ip", { method: "DELETE" });
    expect(invalid.status).toBe(400);
    expect((await problem(invalid)).errors[0].path).toBe("ip");
  });

  it("the block endpoints need the platform token and valid paging", async () => {
    expect(PLATFORM_TOKEN).not.toBe("wrong");
    expect((await platform("/platform/blocks", { token: "wrong" })).status).toBe(401);
    expect((await platform("/platform/blocks/10.0.0.1", { method: "DELETE", token: "wrong" })).status).toBe(401);
    const badCursor = await platform("/platform/blocks?cursor=nope");
    expect(badCursor.status).toBe(400);
    expect((await problem(badCursor)).code).toBe("invalid_cursor");
    const badLimit = await platform("/platform/blocks?limit=0");
    expect(badLimit.status).toBe(400);
    expect((await problem(badLimit)).errors[0].path).toBe("limit");
  });
});

describe("failure and switching off", () => {
  it("fails open when the limiter object fails, and logs it", async () => {
    const { t, userPath } = await limitedTenant();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    // Simulates the objects throwing (a crash or `overloaded`); the Worker must still serve.
    vi.spyOn(RateLimiter.prototype, "hit").mockRejectedValue(Object.assign(new Error("Durable Object is overloaded"), { overloaded: true }));
    const ip = freshIp();
    const served = await Promise.all(Array.from({ length: 12 }, () => get(t, userPath, ip)));
    expect(statuses(served)).toEqual({ 200: 12 });
    expect(served[0]!.headers.get("RateLimit")).toBeNull();
    const logged = errors.mock.calls.map((args) => String(args[0])).filter((line) => line.includes("rate_limiter_failed"));
    expect(logged.length).toBeGreaterThanOrEqual(12);
    expect(JSON.parse(logged[0]!)).toMatchObject({ event: "rate_limiter_failed", overloaded: true });
  });

  it("fails open when the limiter object does not answer within RATE_LIMIT_TIMEOUT_MS", async () => {
    const { t, userPath } = await limitedTenant();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    // A slow object: answers "admitted" only after 300 ms, longer than the 50 ms allowed here.
    vi.spyOn(RateLimiter.prototype, "hit").mockImplementation(
      () => new Promise((resolve) => setTimeout(() => resolve({ outcome: "admitted", limit: 10, remaining: 9, resetMs: 1000, at: Date.now() }), 300)),
    );
    const app = createApp();
    const ctx = createExecutionContext();
    const res = await app.request(
      `https://${t.host}${userPath}`,
      { headers: { Authorization: `Bearer ${t.token}`, "CF-Connecting-IP": freshIp() } },
      { ...env, RATE_LIMIT_TIMEOUT_MS: "50" },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
    expect(res.headers.get("RateLimit")).toBeNull();
    const logged = errors.mock.calls.map((args) => String(args[0])).filter((line) => line.includes("rate_limiter_failed"));
    expect(logged.map((line) => JSON.parse(line).error)).toEqual(["no answer within 50 ms", "no answer within 50 ms"]);
    await sleep(300); // let the slow calls finish before the spy is restored
  });

  it("RATE_LIMIT_ENABLED=false switches limiting off entirely", async () => {
    const { t, userPath } = await limitedTenant();
    const app = createApp();
    const disabled = { ...env, RATE_LIMIT_ENABLED: "false" };
    const ip = freshIp();
    const responses: Response[] = [];
    for (let i = 0; i < 15; i++) {
      const ctx = createExecutionContext();
      const res = await app.request(`https://${t.host}${userPath}`, { headers: { Authorization: `Bearer ${t.token}`, "CF-Connecting-IP": ip } }, disabled, ctx);
      await waitOnExecutionContext(ctx);
      responses.push(res);
    }
    expect(statuses(responses)).toEqual({ 200: 15 });
    expect(responses[0]!.headers.get("RateLimit-Policy")).toBeNull();
    expect(await admitted(`ip:${ip}`)).toBe(0);
  });

  it("reads defaults of 10 per IP, 50 per tenant and a 5-minute block from configuration", () => {
    const config = readLimitConfig({} as never);
    expect(config).toEqual({
      enabled: true,
      ipPerSecond: 10,
      tenantPerSecond: 50,
      block: { threshold: 100, windowSeconds: 60, durationSeconds: 300 },
      timeoutMs: 1000,
    });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const custom = readLimitConfig({ RATE_LIMIT_ENABLED: "FALSE", RATE_LIMIT_IP_PER_SECOND: "abc", RATE_LIMIT_TENANT_PER_SECOND: "7", RATE_LIMIT_BLOCK_SECONDS: "0" } as never);
    expect(custom).toMatchObject({ enabled: false, ipPerSecond: 10, tenantPerSecond: 7, block: { durationSeconds: 300 } });
    expect(warn).toHaveBeenCalled();
  });
});
