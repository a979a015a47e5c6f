/** Shards: placement, isolation across shards (counting bindings), bookmarks, retention and the feed. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { pruneTenant } from "../src/shards/retention";
import { createTenant, createUser, newUser, platform, problem, uniqueSlug, BASE, PLATFORM_TOKEN } from "./helpers";


async function createPlaced(body: Record<string, unknown>) {
  const slug = uniqueSlug("sh");
  const res = await platform("/platform/tenants", { body: { slug, name: slug, ...body } });
  return { slug, res, json: (await res.json()) as Record<string, any> };
}

describe("placement", () => {
  it("places by region, by name, and by default on the DB shard; the tenant JSON shows both", async () => {
    const eu = await createPlaced({ dataRegion: "eu" });
    expect(eu.res.status).toBe(201);
    expect(eu.json.tenant).toMatchObject({ dataRegion: "eu", shard: "eu-1", eventRetentionDays: 30, move: null });
    const named = await createPlaced({ shard: "us-1" });
    expect(named.json.tenant).toMatchObject({ dataRegion: "us", shard: "us-1" });
    const plain = await createPlaced({});
    expect(plain.json.tenant).toMatchObject({ dataRegion: "us", shard: "us-1" });
    // The EU tenant's rows are on the EU database only.
    const id = eu.json.tenant.id;
    expect(await env.SHARD_EU_1.prepare("SELECT count(*) AS n FROM api_tokens WHERE tenant_id = ?").bind(id).first("n")).toBe(1);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM api_tokens WHERE tenant_id = ?").bind(id).first("n")).toBe(0);
    expect(await env.DB.prepare("SELECT shard FROM tenants WHERE id = ?").bind(id).first("shard")).toBe("eu-1");
  });

  it("refuses an unknown region, an unknown shard and a mismatched pair, creating nothing", async () => {
    for (const body of [{ dataRegion: "mars" }, { shard: "nope" }, { shard: "us-1", dataRegion: "eu" }]) {
      const r = await createPlaced(body);
      expect(r.res.status, JSON.stringify(body)).toBe(400);
      expect(r.json.code).toBe("validation_failed");
      expect((await platform(`/platform/tenants/${r.slug}`)).status).toBe(404);
    }
  });

  it("GET /platform/shards lists name, region, tenants, users and size", async () => {
    const t = await createPlaced({ dataRegion: "eu" });
    const host = `${t.slug}.${BASE}`;
    const res = await fetchVia(host, "/v1/users", { method: "POST", token: t.json.token, body: newUser() });
    expect(res.status).toBe(201);
    const list = (await (await platform("/platform/shards")).json()) as { data: any[] };
    expect(list.data.map((s) => s.name)).toEqual(["us-1", "eu-1"]);
    const eu = list.data.find((s) => s.name === "eu-1");
    expect(eu).toMatchObject({ region: "eu", jurisdiction: "eu", default: false });
    expect(eu.tenants).toBeGreaterThanOrEqual(1);
    expect(eu.users).toBeGreaterThanOrEqual(1);
    expect(eu.sizeBytes).toBeGreaterThan(0);
    expect((await platform("/platform/shards", { token: "wrong" })).status).toBe(401);
  });
});

/** A D1 binding that records every statement it prepares. */
function counting(d1: D1Database, log: string[]): D1Database {
  const wrapSession = (s: D1DatabaseSession): D1DatabaseSession =>
    ({
      prepare: (q: string) => (log.push(q), s.prepare(q)),
      batch: (stmts: D1PreparedStatement[]) => s.batch(stmts),
      getBookmark: () => s.getBookmark(),
    }) as D1DatabaseSession;
  return new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare") return (q: string) => (log.push(q), target.prepare(q));
      if (prop === "withSession") return (c?: string) => wrapSession(target.withSession(c as D1SessionConstraint));
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

const logs = { DB: [] as string[], SHARD_EU_1: [] as string[] };
const countingEnv = { ...env, DB: counting(env.DB, logs.DB), SHARD_EU_1: counting(env.SHARD_EU_1, logs.SHARD_EU_1) };
const app = createApp();

async function fetchVia(host: string, path: string, o: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers = new Headers(o.headers);
  if (o.token) headers.set("Authorization", `Bearer ${o.token}`);
  if (o.body) headers.set("Content-Type", "application/json");
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`https://${host}${path}`, { method: o.method ?? "GET", headers, body: o.body ? JSON.stringify(o.body) : undefined }), countingEnv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const TENANT_TABLES = /\b(users|api_tokens|events|memberships|collections|roles|attribute_definitions|idempotency_keys|invitations|user_provisioning|identity_providers|event_receipts)\b/;

describe("isolation across shards", () => {
  it("a tenant's requests touch only its own shard (counting bindings)", async () => {
    const a = await createPlaced({ shard: "eu-1" });
    const b = await createPlaced({ shard: "us-1" });
    const hostA = `${a.slug}.${BASE}`;
    const hostB = `${b.slug}.${BASE}`;
    logs.DB.length = 0;
    logs.SHARD_EU_1.length = 0;
    const created = await fetchVia(hostA, "/v1/users", { method: "POST", token: a.json.token, body: newUser() });
    expect(created.status).toBe(201);
    expect((await fetchVia(hostA, "/v1/users", { token: a.json.token })).status).toBe(200);
    expect((await fetchVia(hostA, "/v1/events", { token: a.json.token })).status).toBe(200);
    // A (on eu-1) used its shard for data; the DB binding only for the host -> tenant lookup.
    expect(logs.SHARD_EU_1.some((q) => /users/.test(q))).toBe(true);
    expect(logs.DB.filter((q) => TENANT_TABLES.test(q))).toEqual([]);
    logs.DB.length = 0;
    logs.SHARD_EU_1.length = 0;
    expect((await fetchVia(hostB, "/v1/users", { token: b.json.token })).status).toBe(200);
    expect((await fetchVia(hostB, "/v1/users", { method: "POST", token: b.json.token, body: newUser() })).status).toBe(201);
    expect(logs.SHARD_EU_1).toEqual([]);
    // A's token on B's host: refused, and still without touching A's shard.
    expect((await fetchVia(hostB, "/v1/users", { token: a.json.token })).status).toBe(401);
    expect(logs.SHARD_EU_1).toEqual([]);
  });
});

describe("bookmarks", () => {
  it("every tenant response carries X-D1-Bookmark naming the shard; sent back, it is honoured", async () => {
    const t = await createTenant();
    const created = await t.call("/v1/users", { body: newUser() });
    const bookmark = created.headers.get("X-D1-Bookmark");
    expect(bookmark).toMatch(/^us-1:[A-Za-z0-9-]+$/);
    const user = (await created.json()) as { id: string };
    const read = await t.call(`/v1/users/${user.id}`, { headers: { "X-D1-Bookmark": bookmark! } });
    expect(read.status, await read.clone().text()).toBe(200);
    const next = read.headers.get("X-D1-Bookmark")!;
    expect(next.slice(5) >= bookmark!.slice(5)).toBe(true);
    // A garbled bookmark or one from another shard never fails a request: it reads from the primary.
    for (const h of ["garbage", "eu-1:00000001-00000000-00005000-0123", "us-1:<script>"]) {
      expect((await t.call(`/v1/users/${user.id}`, { headers: { "X-D1-Bookmark": h } })).status, h).toBe(200);
    }
    // Errors carry it too, and the platform API (no shard) does not.
    expect((await t.call("/v1/users/nope")).headers.get("X-D1-Bookmark")).toMatch(/^us-1:/);
    expect((await platform("/platform/shards")).headers.get("X-D1-Bookmark")).toBeNull();
  });
});

describe("retention", () => {
  it("prunes delivered events past the window; an older feed cursor gets 410 cursor_expired", async () => {
    const t = await createTenant();
    await createUser(t);
    const first = await t.call("/v1/events");
    const cursor = ((await first.json()) as any).pagination.nextCursor as string;
    for (let i = 0; i < 2; i++) await createUser(t);
    const patched = await platform(`/platform/tenants/${t.slug}`, { method: "PATCH", body: { eventRetentionDays: 7 } });
    expect(((await patched.json()) as any).eventRetentionDays).toBe(7);
    expect((await platform(`/platform/tenants/${t.slug}`, { method: "PATCH", body: { eventRetentionDays: 0 } })).status).toBe(400);
    // The consumer processes them; then age them by moving "now" 8 days ahead (no waiting).
    await env.DB.prepare("UPDATE events SET status = 'processed' WHERE tenant_id = ?").bind(t.id).run();
    const kept = await pruneTenant(env.DB, t.id, 7, Date.now() + 6 * 86_400_000);
    expect(kept.events).toBe(0);
    // Three user.created events, plus the audit trail's admin events for the settings change.
    const all = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(all!.n).toBeGreaterThanOrEqual(3);
    const pruned = await pruneTenant(env.DB, t.id, 7, Date.now() + 8 * 86_400_000);
    expect(pruned.events).toBe(all!.n);
    const gone = await t.call(`/v1/events?after=${cursor}`);
    expect(gone.status).toBe(410);
    const body = await problem(gone);
    expect(body.code).toBe("cursor_expired");
    expect(body.detail).toContain("updatedSince");
    const fresh = await t.call("/v1/events");
    expect(fresh.status).toBe(200);
    const again = await t.call(`/v1/events?after=${((await fresh.json()) as any).pagination.nextCursor}`);
    expect(again.status).toBe(200);
    void PLATFORM_TOKEN;
  });
});
