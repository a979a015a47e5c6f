/**
 * Online moves: under concurrent writers and readers every acknowledged write is there once
 * afterwards, reads never fail, and writes are refused only with 503 + Retry-After; a move that
 * fails leaves the tenant whole on its source shard.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { BASE, call, createTenant, createUser, newUser, platform, uniqueSlug, type TestTenant } from "./helpers";
import { installReceiver, to } from "./webhooks/receiver";

async function moveOf(slug: string) {
  return ((await (await platform(`/platform/tenants/${slug}`)).json()) as any) as { shard: string; move: any };
}

async function waitForMove(slug: string, until: (m: any) => boolean) {
  await vi.waitUntil(async () => until((await moveOf(slug)).move), { timeout: 50_000, interval: 50 });
  return moveOf(slug);
}

async function count(d1: D1Database, table: string, tenantId: string): Promise<number> {
  return (await d1.prepare(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = ?`).bind(tenantId).first<number>("n")) ?? 0;
}

describe("moving a tenant between shards", () => {
  it("copies, verifies, cuts over and cleans up while writers and readers keep going", async () => {
    const t: TestTenant = await createTenant();
    const before: string[] = [];
    for (let i = 0; i < 30; i++) before.push((await createUser(t)).id as string);
    const res = await platform(`/platform/tenants/${t.slug}/move`, { body: { shard: "eu-1" } });
    expect(res.status).toBe(202);
    expect(((await res.json()) as any).to).toBe("eu-1");
    expect((await platform(`/platform/tenants/${t.slug}/move`, { body: { shard: "eu-1" } })).status).toBe(409);

    const acked: string[] = [];
    const refusals: Response[] = [];
    const failedReads: number[] = [];
    let stop = false;
    const writer = (async () => {
      while (!stop) {
        const r = await t.call("/v1/users", { body: newUser() });
        if (r.status === 201) acked.push(((await r.json()) as any).id);
        else refusals.push(r);
      }
    })();
    const reader = (async () => {
      while (!stop) {
        const r = await t.call(`/v1/users/${before[acked.length % before.length]}`);
        if (r.status !== 200) failedReads.push(r.status);
      }
    })();
    const done = await waitForMove(t.slug, (m) => m?.status === "done" || m?.status === "failed");
    stop = true;
    await Promise.all([writer, reader]);

    expect(done.move.error).toBeNull();
    expect(done.move.status).toBe("done");
    expect(done.shard).toBe("eu-1");
    // The verified snapshot holds everything written before the fence (later writes went to the target).
    expect(done.move.progress.verified.users.rows).toBeGreaterThanOrEqual(30);
    expect(done.move.progress.verified.users.rows).toBeLessThanOrEqual(30 + acked.length);
    expect(done.move.fencedAt && done.move.cutoverAt).toBeTruthy();
    expect(failedReads).toEqual([]);
    for (const r of refusals) {
      expect(r.status).toBe(503);
      expect(Number(r.headers.get("Retry-After"))).toBeGreaterThan(0);
    }
    // Every acknowledged write is there exactly once, on the new shard only.
    const ids = [...before, ...acked];
    const list = (await (await t.call("/v1/users?limit=1000")).json()) as { data: { id: string }[] };
    expect(list.data.map((u) => u.id).sort()).toEqual([...ids].sort());
    expect(await count(env.SHARD_EU_1, "users", t.id)).toBe(ids.length);
    expect(await count(env.DB, "users", t.id)).toBe(0);
    expect(await count(env.DB, "api_tokens", t.id)).toBe(0);
    // And the tenant keeps working on its new shard.
    expect((await t.call("/v1/users", { body: newUser() })).status).toBe(201);
    expect((await t.call("/v1/users/" + before[0])).headers.get("X-D1-Bookmark")).toMatch(/^eu-1:/);
  });

  it("a move that fails leaves the tenant whole on its source shard", async () => {
    const t = await createTenant();
    const users: string[] = [];
    for (let i = 0; i < 5; i++) users.push((await createUser(t)).id as string);
    // Break the target: its users table is gone, so the copy fails part-way.
    await env.SHARD_EU_1.prepare("ALTER TABLE users RENAME TO users_offline").run();
    try {
      expect((await platform(`/platform/tenants/${t.slug}/move`, { body: { shard: "eu-1" } })).status).toBe(202);
      const after = await waitForMove(t.slug, (m) => m?.status === "done" || m?.status === "failed");
      expect(after.move.status).toBe("failed");
      expect(after.move.error).toBeTruthy();
      expect(after.shard).toBe("us-1");
    } finally {
      await env.SHARD_EU_1.prepare("ALTER TABLE users_offline RENAME TO users").run();
    }
    const list = (await (await t.call("/v1/users?limit=100")).json()) as { data: { id: string }[] };
    expect(list.data.map((u) => u.id).sort()).toEqual([...users].sort());
    expect((await t.call("/v1/users", { body: newUser() })).status).toBe(201);
    expect(await count(env.DB, "tenant_fences", t.id)).toBe(0);
    expect(await count(env.SHARD_EU_1, "api_tokens", t.id)).toBe(0);
  });

  it("carries webhook endpoints and deliveries, with their feed positions translated", async () => {
    installReceiver();
    // Another tenant's events on the target first, so the moved events get seqs unlike their old ones.
    const neighbour = uniqueSlug("eu");
    const made = await platform("/platform/tenants", { body: { slug: neighbour, name: "Neighbour", shard: "eu-1" } });
    expect(made.status).toBe(201);
    const neighbourToken = ((await made.json()) as any).token as string;
    for (let i = 0; i < 5; i++) expect((await call(`${neighbour}.${BASE}`, "/v1/users", { token: neighbourToken, body: newUser() })).status).toBe(201);
    const t = await createTenant();
    const host = `${t.slug}.hooks.example.com`;
    const reg = await t.call("/v1/webhooks", { body: { url: `https://${host}/hook`, events: ["user.*"] } });
    expect(reg.status).toBe(201);
    const endpointId = ((await reg.json()) as any).endpoint.id as string;
    for (let i = 0; i < 3; i++) await createUser(t);
    const deliveries = async () => ((await (await t.call(`/v1/webhooks/${endpointId}/deliveries`)).json()) as { data: any[] }).data;
    await vi.waitUntil(async () => (await deliveries()).filter((d) => d.status === "delivered").length === 3, { timeout: 30_000, interval: 50 });

    expect((await platform(`/platform/tenants/${t.slug}/move`, { body: { shard: "eu-1" } })).status).toBe(202);
    const done = await waitForMove(t.slug, (m) => m?.status === "done" || m?.status === "failed");
    expect(done.move.status).toBe("done");
    expect(done.move.progress.verified.webhook_deliveries.rows).toBe(3);
    expect(await count(env.DB, "webhook_deliveries", t.id)).toBe(0);

    // Every delivery points at its event's new seq, and the cursor at the last event it covered.
    const target = env.SHARD_EU_1;
    const rows = (await target.prepare("SELECT d.event_seq, e.seq FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE d.tenant_id = ?").bind(t.id).all<{ event_seq: number; seq: number }>()).results;
    expect(rows.length).toBe(3);
    for (const r of rows) expect(r.event_seq).toBe(r.seq);
    const cursor = await target.prepare("SELECT cursor_seq FROM webhook_endpoints WHERE tenant_id = ?").bind(t.id).first<number>("cursor_seq");
    const lastUserEvent = await target.prepare("SELECT max(seq) AS s FROM events WHERE tenant_id = ? AND type LIKE 'user.%'").bind(t.id).first<number>("s");
    expect(cursor).toBeGreaterThanOrEqual(lastUserEvent!);

    // Delivery goes on from the new shard: the next user is sent once, the old ones never again.
    const next = await createUser(t);
    await vi.waitUntil(() => to(host).some((r) => r.body.includes(next.id as string)), { timeout: 30_000, interval: 50 });
    await vi.waitUntil(async () => (await deliveries()).filter((d) => d.status === "delivered").length === 4, { timeout: 30_000, interval: 50 });
    const ids = to(host).map((r) => r.headers["webhook-id"]);
    expect(new Set(ids).size).toBe(4);
  });
});
