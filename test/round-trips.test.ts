/**
 * The round-trip targets, held by counting every remote call a request makes (D1 and the rate
 * limiter's Durable Objects; see test/support/counting-bindings.ts for what counts as a call and a
 * sequential hop). Production set-up: the Durable Object limiter is on (the IP and the tenant
 * counters are both asked: 2 DO calls per admitted request), and the host -> tenant lookup is
 * warm (it is cached per isolate by design and not part of the targets), so every measured
 * request is preceded by a warm-up request on its host.
 *
 * Targets: a read is 1 sequential hop (the limiter calls run next to the D1 batch); a write is 2
 * (the read batch with the limiter calls, then the write batch); a Bulk request with N user
 * operations at most 2N; 1,000 invitations at most 4. A target a route misses is kept as the
 * target and marked `it.fails` with the measured numbers, for the core owner to fix.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { generateToken } from "../src/auth/tokens";
import { manualClock } from "../src/core/context";
import { memoryLimiter } from "../src/limits/memory";
import { countedFetch, type CountedResponse, type RequestCounts } from "./support/counting-bindings";
import { createTenant, createUser, newUser, type TestTenant } from "./helpers";
import { createScimUser, patch, scimUser } from "./scim/helpers";

const BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

/** The production app (Durable Object limiter, wall clock), built here so its env can be wrapped. */
const app = createApp();
/** Rate limits stay on (vitest.config.ts sets generous per-second limits); tenants cache warm. */
const OVERRIDES = { TENANT_CACHE_SECONDS: "60", RATE_LIMIT_ENABLED: "true" };

let ipCounter = 0;
/** A client IP no earlier request used, so that no per-IP state (counters, cache) carries over. */
function freshIp(): string {
  ipCounter += 1;
  return `198.18.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
}

interface Send {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Defaults to the tenant's admin token; null sends none. */
  token?: string | null;
  ip?: string;
  scim?: boolean;
  overrides?: Record<string, string>;
}

function request(t: TestTenant, path: string, o: Send = {}): Request {
  const headers = new Headers(o.headers);
  const token = o.token === undefined ? t.token : o.token;
  if (token !== null) headers.set("Authorization", `Bearer ${token}`);
  headers.set("CF-Connecting-IP", o.ip ?? freshIp());
  if (o.scim) headers.set("Accept", "application/scim+json");
  let body: string | undefined;
  if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", o.scim ? "application/scim+json" : "application/json");
  }
  return new Request(`https://${t.host}${path}`, { method: o.method ?? (body === undefined ? "GET" : "POST"), headers, body });
}

function send(t: TestTenant, path: string, o: Send = {}, via: { fetch: typeof app.fetch } = app): Promise<CountedResponse> {
  return countedFetch(via, request(t, path, o), env, {
    overrides: { ...OVERRIDES, ...o.overrides },
    createContext: createExecutionContext,
    waitOn: waitOnExecutionContext,
  });
}

/** Makes sure this isolate has the host's tenant cached (no token: the answer is a cheap 401). */
async function warm(t: TestTenant, overrides?: Record<string, string>): Promise<void> {
  const { response } = await send(t, "/v1/users", { token: null, overrides });
  expect(response.status).toBe(401);
}

const measured: Array<{ route: string; status: number } & Pick<RequestCounts, "d1" | "do" | "hops" | "background"> & { inFlight: number }> = [];

/** Warm-up, then the measured request; records the numbers for the summary table. */
async function measure(t: TestTenant, route: string, path: string, o: Send = {}): Promise<CountedResponse> {
  await warm(t, o.overrides);
  const out = await send(t, path, o);
  const c = out.counts;
  measured.push({ route, status: out.response.status, d1: c.d1, do: c.do, hops: c.hops, background: c.background, inFlight: c.inFlight.length });
  return out;
}

/** For failure messages: every critical-path call with its level. */
function trace(c: RequestCounts): string {
  return [`d1=${c.d1} do=${c.do} queue=${c.queue} hops=${c.hops} background=${c.background} inFlight=${c.inFlight.length}`, ...c.calls.map((x) => `  L${x.level} ${x.kind} ${x.label}`), ...c.inFlight.map((x) => `  (in flight) L${x.level} ${x.kind} ${x.label}`)].join("\n");
}

function expectStatus(out: CountedResponse, status: number): void {
  expect(out.response.status, `${out.text}\n${trace(out.counts)}`).toBe(status);
}

/**
 * The limiter objects answered (a limiter failure is served fail-open, still after 2 DO calls):
 * only counters that admitted the request produce the rate-limit headers.
 */
function expectLimiterAnswered(out: CountedResponse): void {
  expect(out.response.headers.get("RateLimit-Policy"), trace(out.counts)).toMatch(/^"(ip|tenant)";q=\d+;w=1$/);
}

/** A read: one hop; both limiter counters asked, next to the D1 work. */
function expectRead(out: CountedResponse, d1?: number): void {
  const c = out.counts;
  expectLimiterAnswered(out);
  expect(c.inFlight, trace(c)).toEqual([]);
  expect(c.do, trace(c)).toBe(2);
  expect(c.queue, trace(c)).toBe(0);
  if (d1 !== undefined) expect(c.d1, trace(c)).toBe(d1);
  expect(c.hops, trace(c)).toBe(1);
}

/** A write: two hops (read batch + limiter, then the write batch). */
function expectWrite(out: CountedResponse, d1?: number): void {
  const c = out.counts;
  expectLimiterAnswered(out);
  expect(c.inFlight, trace(c)).toEqual([]);
  expect(c.do, trace(c)).toBe(2);
  expect(c.queue, trace(c)).toBe(0);
  if (d1 !== undefined) expect(c.d1, trace(c)).toBe(d1);
  expect(c.hops, trace(c)).toBe(2);
}

let t: TestTenant;
let manager: Record<string, any>;
let groupId: string;

beforeAll(async () => {
  t = await createTenant();
  manager = await createUser(t);
  const g = await t.call("/v1/groups", { body: { name: "Round trips" } });
  expect(g.status).toBe(201);
  groupId = ((await g.json()) as { id: string }).id;
});

afterAll(() => {
  // The measured numbers, for the report (vitest prints console output of the file).
  console.log(
    ["route | status | D1 calls | DO calls | hops | background | in flight", "--- | --- | --- | --- | --- | --- | ---"]
      .concat(measured.map((m) => `${m.route} | ${m.status} | ${m.d1} | ${m.do} | ${m.hops} | ${m.background} | ${m.inFlight}`))
      .join("\n"),
  );
});

async function etag(path: string): Promise<string> {
  const res = await t.call(path);
  expect(res.status).toBe(200);
  return res.headers.get("ETag")!;
}

describe("reads take 1 sequential hop", () => {
  it("GET /v1/users/{id}", async () => {
    const u = await createUser(t);
    const out = await measure(t, "GET /v1/users/{id}", `/v1/users/${u.id}`);
    expectStatus(out, 200);
    expectRead(out, 1);
  });

  it("GET /v1/users (list)", async () => {
    const out = await measure(t, "GET /v1/users", "/v1/users?limit=10");
    expectStatus(out, 200);
    expectRead(out);
  });

  it("GET /v1/users?filter=", async () => {
    const filter = encodeURIComponent(`email eq "${manager.email}"`);
    const out = await measure(t, "GET /v1/users?filter=", `/v1/users?filter=${filter}`);
    expectStatus(out, 200);
    expect((JSON.parse(out.text) as { data: unknown[] }).data).toHaveLength(1);
    expectRead(out);
  });

  it("POST /v1/users/search", async () => {
    const out = await measure(t, "POST /v1/users/search", "/v1/users/search", { body: { filter: `email eq "${manager.email}"` } });
    expectStatus(out, 200);
    expect((JSON.parse(out.text) as { data: unknown[] }).data).toHaveLength(1);
    expectRead(out);
  });

  it("GET /scim/v2/Users/{id}", async () => {
    const u = await createScimUser(t);
    const out = await measure(t, "GET /scim/v2/Users/{id}", `/scim/v2/Users/${u.id}`, { scim: true });
    expectStatus(out, 200);
    expectRead(out, 1);
  });

  it('GET /scim/v2/Users?filter=userName eq "..."', async () => {
    const u = await createScimUser(t);
    const filter = encodeURIComponent(`userName eq "${u.userName}"`);
    const out = await measure(t, "GET /scim/v2/Users?filter=userName eq", `/scim/v2/Users?filter=${filter}`, { scim: true });
    expectStatus(out, 200);
    expect(JSON.parse(out.text).totalResults).toBe(1);
    expectRead(out);
  });

  it("GET /scim/v2/Groups/{id}", async () => {
    const out = await measure(t, "GET /scim/v2/Groups/{id}", `/scim/v2/Groups/${groupId}`, { scim: true });
    expectStatus(out, 200);
    expectRead(out);
  });

  it("GET /v1/groups/{id}", async () => {
    const out = await measure(t, "GET /v1/groups/{id}", `/v1/groups/${groupId}`);
    expectStatus(out, 200);
    expectRead(out);
  });

  it("GET /v1/roles/{id} and /v1/identity-providers/{id} (the row and its user count in one batch)", async () => {
    const role = await t.call("/v1/roles", { body: { name: `RT ${crypto.randomUUID()}` } });
    const provider = await t.call("/v1/identity-providers", { body: { name: `RT ${crypto.randomUUID()}`, prefix: `rt${Date.now().toString(36)}` } });
    expect([role.status, provider.status]).toEqual([201, 201]);
    for (const [route, path] of [
      ["GET /v1/roles/{id}", `/v1/roles/${((await role.json()) as { id: string }).id}`],
      ["GET /v1/identity-providers/{id}", `/v1/identity-providers/${((await provider.json()) as { id: string }).id}`],
    ] as const) {
      const out = await measure(t, route, path);
      expectStatus(out, 200);
      expectRead(out);
    }
  });

  it("an unknown token is answered 401 after exactly 1 hop", async () => {
    const out = await measure(t, "GET /v1/users/{id} unknown token", `/v1/users/${manager.id}`, { token: generateToken() });
    expectStatus(out, 401);
    expect(JSON.parse(out.text).code).toBe("unknown_token");
    expect(out.counts.hops, trace(out.counts)).toBe(1);
  });
});

describe("writes take 2 sequential hops", () => {
  it("POST /v1/users with a managerId", async () => {
    const out = await measure(t, "POST /v1/users (managerId)", "/v1/users", { body: newUser({ managerId: manager.id }) });
    expectStatus(out, 201);
    expectWrite(out);
  });

  it("POST /v1/users with an Idempotency-Key and a managerId", async () => {
    const out = await measure(t, "POST /v1/users (Idempotency-Key, managerId)", "/v1/users", {
      body: newUser({ managerId: manager.id }),
      headers: { "Idempotency-Key": crypto.randomUUID() },
    });
    expectStatus(out, 201);
    expectWrite(out);
  });

  it("POST /v1/groups with an Idempotency-Key (the key's claim rides in the write batch)", async () => {
    const out = await measure(t, "POST /v1/groups (Idempotency-Key)", "/v1/groups", { body: { name: `RT ${crypto.randomUUID()}` }, headers: { "Idempotency-Key": crypto.randomUUID() } });
    expectStatus(out, 201);
    expectWrite(out);
  });

  it("POST /v1/roles with an Idempotency-Key (a blind write: the key's lookup rides with the token check)", async () => {
    const out = await measure(t, "POST /v1/roles (Idempotency-Key)", "/v1/roles", { body: { name: `RT ${crypto.randomUUID()}` }, headers: { "Idempotency-Key": crypto.randomUUID() } });
    expectStatus(out, 201);
    expectWrite(out);
  });

  it("PATCH /v1/users/{id} without If-Match", async () => {
    const u = await createUser(t);
    const out = await measure(t, "PATCH /v1/users/{id}", `/v1/users/${u.id}`, { method: "PATCH", body: { department: "Research", managerId: manager.id } });
    expectStatus(out, 200);
    expectWrite(out);
  });

  it("PATCH /v1/users/{id} with If-Match", async () => {
    const u = await createUser(t);
    const out = await measure(t, "PATCH /v1/users/{id} (If-Match)", `/v1/users/${u.id}`, {
      method: "PATCH",
      body: { title: "Engineer" },
      headers: { "If-Match": await etag(`/v1/users/${u.id}`) },
    });
    expectStatus(out, 200);
    expectWrite(out);
  });

  it("DELETE /v1/users/{id} (deactivate)", async () => {
    const u = await createUser(t);
    const out = await measure(t, "DELETE /v1/users/{id}", `/v1/users/${u.id}`, { method: "DELETE" });
    expectStatus(out, 200);
    expect(JSON.parse(out.text).active).toBe(false);
    expectWrite(out);
  });

  it("DELETE /v1/users/{id}?erase=true", async () => {
    const u = await createUser(t);
    const out = await measure(t, "DELETE /v1/users/{id}?erase=true", `/v1/users/${u.id}?erase=true`, { method: "DELETE" });
    expectStatus(out, 200);
    expect(JSON.parse(out.text).erasedAt).toEqual(expect.any(String));
    expectWrite(out);
  });

  it("POST /scim/v2/Users", async () => {
    const out = await measure(t, "POST /scim/v2/Users", "/scim/v2/Users", { scim: true, body: scimUser() });
    expectStatus(out, 201);
    expectWrite(out);
  });

  it("PUT /scim/v2/Users/{id}", async () => {
    const u = await createScimUser(t);
    const out = await measure(t, "PUT /scim/v2/Users/{id}", `/scim/v2/Users/${u.id}`, {
      method: "PUT",
      scim: true,
      body: { ...scimUser({ userName: u.userName, externalId: u.externalId }), title: "Replaced" },
    });
    expectStatus(out, 200);
    expectWrite(out);
  });

  it("PATCH /scim/v2/Users/{id}", async () => {
    const u = await createScimUser(t);
    const out = await measure(t, "PATCH /scim/v2/Users/{id}", `/scim/v2/Users/${u.id}`, {
      method: "PATCH",
      scim: true,
      body: patch({ op: "replace", path: "title", value: "Patched" }, { op: "add", path: "name.givenName", value: "Barb" }),
    });
    expectStatus(out, 200);
    expectWrite(out);
  });

  it("POST and PATCH /scim/v2/Users with folders (the service extension): the folder check rides in the read batch", async () => {
    const FOLDERS_EXT = "urn:ietf:params:scim:schemas:extension:provisioning:2.0:User";
    const f = await t.call("/v1/folders", { body: { name: `Round trips ${Date.now()}` } });
    const folderId = ((await f.json()) as { id: string }).id;
    const created = await measure(t, "POST /scim/v2/Users (folders)", "/scim/v2/Users", { scim: true, body: scimUser({ [FOLDERS_EXT]: { folders: [{ value: folderId }] } }) });
    expectStatus(created, 201);
    expectWrite(created);
    const u = await createScimUser(t);
    const out = await measure(t, "PATCH /scim/v2/Users/{id} (folders add)", `/scim/v2/Users/${u.id}`, {
      method: "PATCH",
      scim: true,
      body: patch({ op: "add", path: `${FOLDERS_EXT}:folders`, value: [{ value: folderId }] }),
    });
    expectStatus(out, 200);
    expectWrite(out);
  });

  it('PATCH /scim/v2/Users/{id}, Entra-style {"op":"Replace","value":{"active":"False"}}', async () => {
    const u = await createScimUser(t);
    const out = await measure(t, "PATCH /scim/v2/Users/{id} (Entra active False)", `/scim/v2/Users/${u.id}`, {
      method: "PATCH",
      scim: true,
      body: patch({ op: "Replace", value: { active: "False" } }),
    });
    expectStatus(out, 200);
    expect(JSON.parse(out.text).active).toBe(false);
    expectWrite(out);
  });

  it("DELETE /scim/v2/Users/{id}", async () => {
    const u = await createScimUser(t);
    const out = await measure(t, "DELETE /scim/v2/Users/{id}", `/scim/v2/Users/${u.id}`, { method: "DELETE", scim: true });
    expectStatus(out, 204);
    expectWrite(out);
  });
});

describe("SCIM Bulk: at most 2 hops per user operation", () => {
  async function bulk(route: string, operations: Record<string, unknown>[]): Promise<CountedResponse> {
    const out = await measure(t, route, "/scim/v2/Bulk", { scim: true, body: { schemas: [BULK_REQUEST], Operations: operations } });
    expectStatus(out, 200);
    const results = JSON.parse(out.text).Operations as Array<{ status: string }>;
    expect(results, out.text).toHaveLength(operations.length);
    for (const r of results) expect(Number(r.status), out.text).toBeLessThan(300);
    expect(out.counts.inFlight, trace(out.counts)).toEqual([]);
    expect(out.counts.do, trace(out.counts)).toBe(2);
    expectLimiterAnswered(out);
    return out;
  }

  it("each user operation alone: POST, PUT, PATCH, DELETE", async () => {
    const [a, b, c] = [await createScimUser(t), await createScimUser(t), await createScimUser(t)];
    const single: [string, Record<string, unknown>][] = [
      ["POST", { method: "POST", path: "/Users", bulkId: "one", data: scimUser() }],
      ["PUT", { method: "PUT", path: `/Users/${a.id}`, data: { ...scimUser({ userName: a.userName, externalId: a.externalId }), title: "Bulk put" } }],
      ["PATCH", { method: "PATCH", path: `/Users/${b.id}`, data: patch({ op: "replace", path: "title", value: "Bulk patch" }) }],
      ["DELETE", { method: "DELETE", path: `/Users/${c.id}` }],
    ];
    const hops: Record<string, number> = {};
    for (const [name, op] of single) hops[name] = (await bulk(`POST /scim/v2/Bulk (1 ${name})`, [op])).counts.hops;
    expect(hops).toEqual({ POST: 2, PUT: 2, PATCH: 2, DELETE: 2 });
  });

  it("4 user operations (POST, PATCH of it by bulkId, PUT, DELETE) cost at most 8 hops", async () => {
    const [a, c] = [await createScimUser(t), await createScimUser(t)];
    const out = await bulk("POST /scim/v2/Bulk (4 user ops)", [
      { method: "POST", path: "/Users", bulkId: "nu", data: scimUser() },
      { method: "PATCH", path: "/Users/bulkId:nu", data: patch({ op: "replace", path: "title", value: "Fresh" }) },
      { method: "PUT", path: `/Users/${a.id}`, data: { ...scimUser({ userName: a.userName, externalId: a.externalId }), title: "Bulk put" } },
      { method: "DELETE", path: `/Users/${c.id}` },
    ]);
    expect(out.counts.hops, trace(out.counts)).toBeLessThanOrEqual(8);
  });
});

describe("invitations", () => {
  it("POST /v1/invitations with 1,000 users takes at most 4 hops", async () => {
    const org = (await (await t.call("/v1/organizations", { body: { name: "Invited org" } })).json()) as { id: string };
    const run = Date.now().toString(36);
    const users = Array.from({ length: 1000 }, (_, i) =>
      newUser({ email: `rt${run}.${i}@inv.example`, externalId: `RT-${run}-${i}`, managerId: manager.id, organizationIds: [org.id] }),
    );
    const out = await measure(t, "POST /v1/invitations (1,000 users)", "/v1/invitations", { body: { users } });
    expectStatus(out, 200);
    expect(JSON.parse(out.text).counts).toEqual({ created: 1000, existing: 0, failed: 0 });
    expect(out.counts.inFlight, trace(out.counts)).toEqual([]);
    expect(out.counts.do, trace(out.counts)).toBe(2);
    expect(out.counts.hops, trace(out.counts)).toBeLessThanOrEqual(4);
  }, 120_000);
});

describe("rate limits", () => {
  it("a key this isolate already knows to be over its limit gets 429 with no D1 (and no DO) call", async () => {
    // A per-IP limit of 1 and two requests at once: the IP's object admits one and refuses the
    // other, and this isolate remembers the refusal until the window frees up (under a second).
    // The request sent right after the refusal is then refused from that memory. A machine busy
    // enough to let the window pass in between only costs another attempt with a new IP.
    const overrides = { RATE_LIMIT_IP_PER_SECOND: "1" };
    await warm(t, overrides);
    const u = await createUser(t);
    let cached: CountedResponse | undefined;
    let attempts = 0;
    for (; attempts < 20 && !cached; attempts++) {
      const ip = freshIp();
      const refused = await new Promise<CountedResponse | undefined>((resolve, reject) => {
        const pair = [send(t, `/v1/users/${u.id}`, { ip, overrides }), send(t, `/v1/users/${u.id}`, { ip, overrides })];
        // Go on as soon as the refused one is answered; the admitted one may still be running.
        for (const p of pair) p.then((out) => out.response.status === 429 && resolve(out), reject);
        Promise.all(pair).then(() => resolve(undefined), reject);
      });
      if (!refused) continue;
      expect(refused.counts.do, trace(refused.counts)).toBe(2);
      const next = await send(t, `/v1/users/${u.id}`, { ip, overrides });
      if (next.response.status === 429 && next.counts.do === 0) cached = next;
    }
    expect(cached, `no request was refused from the isolate cache in ${attempts} attempts`).toBeDefined();
    expect(JSON.parse(cached!.text)).toMatchObject({ code: "rate_limited", limit: "ip" });
    expect(cached!.response.headers.get("Retry-After")).toEqual(expect.any(String));
    expect(cached!.counts.d1, trace(cached!.counts)).toBe(0);
    expect(cached!.counts.hops, trace(cached!.counts)).toBe(0);
    measured.push({ route: "429 from the isolate cache", status: 429, d1: cached!.counts.d1, do: cached!.counts.do, hops: cached!.counts.hops, background: cached!.counts.background, inFlight: 0 });
  }, 180_000);
});

describe("the in-memory limiter, driven by a manual clock", () => {
  it("admits 10 requests in a second, refuses the 11th without any D1 or DO call, and admits again 1 s later", async () => {
    const clock = manualClock();
    const limited = createApp({ clock, limiter: memoryLimiter(clock) });
    const overrides = { RATE_LIMIT_IP_PER_SECOND: "10" };
    const u = await createUser(t);
    // Warm the tenant cache from another IP (this app's limiter counts that request too).
    expect((await send(t, "/v1/users", { token: null, overrides }, limited)).response.status).toBe(401);
    const ip = freshIp();
    for (let i = 1; i <= 10; i++) {
      const out = await send(t, `/v1/users/${u.id}`, { ip, overrides }, limited);
      expectStatus(out, 200);
      expect(out.response.headers.get("X-RateLimit-Remaining")).toBe(String(10 - i));
      // The in-memory limiter makes no Durable Object call: the read is one D1 batch.
      expect(out.counts, trace(out.counts)).toMatchObject({ d1: 1, do: 0, hops: 1 });
    }
    const refused = await send(t, `/v1/users/${u.id}`, { ip, overrides }, limited);
    expectStatus(refused, 429);
    expect(JSON.parse(refused.text)).toMatchObject({ code: "rate_limited", limit: "ip" });
    expect(refused.response.headers.get("Retry-After")).toBe("1");
    expect(refused.counts, trace(refused.counts)).toMatchObject({ d1: 0, do: 0, hops: 0 });

    clock.advance(999);
    expectStatus(await send(t, `/v1/users/${u.id}`, { ip, overrides }, limited), 429);
    clock.advance(1);
    const again = await send(t, `/v1/users/${u.id}`, { ip, overrides }, limited);
    expectStatus(again, 200);
    expect(again.response.headers.get("X-RateLimit-Remaining")).toBe("9");
  }, 180_000);
});

describe("the counting wrapper itself", () => {
  it("counts a DO call running next to a D1 batch as one hop, and a following batch as a second", async () => {
    const { RequestCounter, countingD1, countingNamespace } = await import("./support/counting-bindings");
    const counter = new RequestCounter();
    const db = countingD1(env.DB, counter);
    const ns = countingNamespace(env.RATE_LIMITER, counter);
    const stmt = db.prepare("SELECT 1 AS one");
    expect((stmt as unknown as { statement: string }).statement).toBe("SELECT 1 AS one");
    await Promise.all([db.batch([stmt, db.prepare("SELECT 2 AS two")]), ns.getByName("ip:wrapper-self-test").inspect()]);
    // Handed to waitUntil in the same synchronous run: background, and no level of its own.
    const background = db.prepare("SELECT 'background'").run();
    counter.waitUntil();
    await background;
    await db.prepare("SELECT ? AS x").bind(3).first();
    const session = db.withSession("first-unconstrained");
    await session.prepare("SELECT 4").all();
    const counts = counter.close();
    expect(counts).toMatchObject({ d1: 3, do: 1, hops: 3, background: 1, inFlight: [] });
    expect(counts.calls.map((c) => `L${c.level} ${c.kind}`)).toEqual(["L1 d1", "L1 do", "L2 d1", "L3 d1"]);
  });
});
