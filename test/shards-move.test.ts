/**
 * Online moves: under concurrent writers and readers every acknowledged write is there once
 * afterwards, reads never fail, and writes are refused only with 503 + Retry-After; a move that
 * fails leaves the tenant whole on its source shard.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createTenant, createUser, newUser, platform, type TestTenant } from "./helpers";

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
});

