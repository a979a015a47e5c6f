/** Devices (per user, per tenant, at most 50) and last activity (coalesced per minute, filterable by an index). */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, createUser, problem, type TestTenant } from "./helpers";
import { clockedApp } from "./support/clocked";

let t: TestTenant;
beforeAll(async () => {
  t = await createTenant();
});

describe("devices", () => {
  it("registers, lists, refreshes, marks seen and deletes, per user", async () => {
    const { clock, call } = clockedApp();
    const u = await createUser(t);
    const other = await createUser(t);
    let res = await call(t, `/v1/users/${u.id}/devices`, { body: { id: "dev-1", platform: "iOS", model: "iPhone 15", name: "Phone", appVersion: "4.2.1" } });
    expect(res.status).toBe(201);
    expect(res.headers.get("Location")).toBe(`/v1/users/${u.id}/devices/dev-1`);
    const created = (await res.json()) as Record<string, unknown>;
    expect(created).toEqual({ id: "dev-1", platform: "iOS", model: "iPhone 15", name: "Phone", appVersion: "4.2.1", firstSeenAt: "2026-01-01T00:00:00.000Z", lastSeenAt: "2026-01-01T00:00:00.000Z" });
    res = await call(t, `/v1/users/${u.id}/devices`, { body: { platform: "Android" } });
    expect(res.status).toBe(201);
    const generated = ((await res.json()) as { id: string }).id;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);

    clock.advance(5_000);
    res = await call(t, `/v1/users/${u.id}/devices/dev-1/seen`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: "dev-1", firstSeenAt: "2026-01-01T00:00:00.000Z", lastSeenAt: "2026-01-01T00:00:05.000Z" });

    // The same id again refreshes it.
    res = await call(t, `/v1/users/${u.id}/devices`, { body: { id: "dev-1", platform: "iOS", appVersion: "4.3.0" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ appVersion: "4.3.0", model: null });

    const list = (await (await call(t, `/v1/users/${u.id}/devices`)).json()) as { data: Array<{ id: string }> };
    expect(list.data.map((d) => d.id)).toEqual(["dev-1", generated]);
    // Another user's device ids do not reach this user's.
    expect((await call(t, `/v1/users/${other.id}/devices/dev-1/seen`, { method: "POST" })).status).toBe(404);
    expect((await call(t, `/v1/users/${other.id}/devices/dev-1`, { method: "DELETE" })).status).toBe(404);
    expect(((await (await call(t, `/v1/users/${other.id}/devices`)).json()) as { data: unknown[] }).data).toEqual([]);

    expect((await call(t, `/v1/users/${u.id}/devices/dev-1`, { method: "DELETE" })).status).toBe(204);
    expect((await call(t, `/v1/users/${u.id}/devices/dev-1`, { method: "DELETE" })).status).toBe(404);
  });

  it("is per tenant: the same user id path on another tenant is 404", async () => {
    const u = await createUser(t);
    await t.call(`/v1/users/${u.id}/devices`, { body: { id: "tenant-dev" } });
    const other = await createTenant();
    expect((await other.call(`/v1/users/${u.id}/devices`)).status).toBe(404);
    expect((await other.call(`/v1/users/${u.id}/devices`, { body: { id: "tenant-dev" } })).status).toBe(404);
    expect((await other.call(`/v1/users/${u.id}/devices/tenant-dev`, { method: "DELETE" })).status).toBe(404);
  });

  it("allows at most 50 devices per user", async () => {
    const u = await createUser(t);
    for (let i = 0; i < 50; i++) expect((await t.call(`/v1/users/${u.id}/devices`, { body: { id: `d${i}` } })).status).toBe(201);
    const res = await t.call(`/v1/users/${u.id}/devices`, { body: { id: "d50" } });
    expect(res.status).toBe(409);
    expect((await problem(res)).detail).toContain("50 devices");
    // A known device can still be refreshed.
    expect((await t.call(`/v1/users/${u.id}/devices`, { body: { id: "d7", name: "again" } })).status).toBe(200);
  });

  it("validates input and unknown users", async () => {
    const u = await createUser(t);
    let res = await t.call(`/v1/users/${u.id}/devices`, { body: { id: "x", colour: "red" } });
    expect(res.status).toBe(400);
    res = await t.call(`/v1/users/${u.id}/devices`, { body: { name: "n".repeat(256) } });
    expect(res.status).toBe(400);
    expect((await t.call(`/v1/users/nope/devices`)).status).toBe(404);
  });

  it("erasing the user removes its devices", async () => {
    const u = await createUser(t);
    await t.call(`/v1/users/${u.id}/devices`, { body: { id: "gone", name: "Personal phone" } });
    expect((await t.call(`/v1/users/${u.id}?erase=true`, { method: "DELETE" })).status).toBe(200);
    const n = await env.DB.prepare("SELECT count(*) AS n FROM user_devices WHERE user_id = ?").bind(u.id).first<{ n: number }>();
    expect(n!.n).toBe(0);
    expect((await t.call(`/v1/users/${u.id}/devices`)).status).toBe(410);
  });
});

describe("last activity", () => {
  it("is read-only, set by POST /activity, written at most once a minute, with no event; a write that lands bumps the version", async () => {
    const { clock, call } = clockedApp();
    const u = await createUser(t);
    expect(u.lastActivityAt).toBeNull();
    expect((await call(t, `/v1/users/${u.id}`, { method: "PATCH", body: { lastActivityAt: "2026-01-01T00:00:00Z" } })).status).toBe(400);
    const eventsBefore = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE subject_id = ?").bind(u.id).first<{ n: number }>();

    let res = await call(t, `/v1/users/${u.id}/activity`, { method: "POST" });
    expect(await res.json()).toEqual({ lastActivityAt: "2026-01-01T00:00:00.000Z", version: u.version + 1, recorded: true });
    clock.advance(59_999);
    res = await call(t, `/v1/users/${u.id}/activity`, { method: "POST" });
    expect(await res.json()).toEqual({ lastActivityAt: "2026-01-01T00:00:00.000Z", version: u.version + 1, recorded: false });
    clock.advance(1);
    res = await call(t, `/v1/users/${u.id}/activity`, { method: "POST" });
    expect(await res.json()).toEqual({ lastActivityAt: "2026-01-01T00:01:00.000Z", version: u.version + 2, recorded: true });

    const user = (await (await call(t, `/v1/users/${u.id}`)).json()) as Record<string, any>;
    expect(user.lastActivityAt).toBe("2026-01-01T00:01:00.000Z");
    expect(user.version).toBe(u.version + 2);
    expect(user.updatedAt).toBe(u.updatedAt);
    const eventsAfter = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE subject_id = ?").bind(u.id).first<{ n: number }>();
    expect(eventsAfter!.n).toBe(eventsBefore!.n);
    expect((await call(t, `/v1/users/nobody/activity`, { method: "POST" })).status).toBe(404);
  });

  it("'inactive for 90 days' is one filtered list, sortable, served by the last-activity index", async () => {
    const tenant = await createTenant();
    const { clock, call } = clockedApp(Date.UTC(2026, 0, 1));
    const old = await createUser(tenant);
    const never = await createUser(tenant);
    const recent = await createUser(tenant);
    await call(tenant, `/v1/users/${old.id}/activity`, { method: "POST" });
    clock.advance(100 * 86_400_000);
    await call(tenant, `/v1/users/${recent.id}/activity`, { method: "POST" });
    const cutoff = new Date(clock.now() - 90 * 86_400_000).toISOString();
    const filter = encodeURIComponent(`lastActivityAt lt "${cutoff}"`);
    const res = await tenant.call(`/v1/users?filter=${filter}&sort=-lastActivityAt`);
    expect(res.status).toBe(200);
    const ids = ((await res.json()) as { data: Array<{ id: string }> }).data.map((u) => u.id);
    expect(ids).toEqual([old.id, never.id]);

    // Sorting pages by keyset over the same expression.
    const page1 = (await (await tenant.call(`/v1/users?sort=lastActivityAt&limit=2`)).json()) as { data: Array<{ id: string }>; pagination: { nextCursor: string } };
    const page2 = (await (await tenant.call(`/v1/users?sort=lastActivityAt&limit=2&cursor=${encodeURIComponent(page1.pagination.nextCursor)}`)).json()) as { data: Array<{ id: string }> };
    expect([...page1.data, ...page2.data].map((u) => u.id)).toEqual([never.id, old.id, recent.id]);

    const plan = await env.DB.prepare(
      `EXPLAIN QUERY PLAN SELECT id FROM users WHERE tenant_id = ? AND erased_at IS NULL AND coalesce("users"."last_activity_at", 0) < ? ORDER BY coalesce("users"."last_activity_at", 0) DESC`,
    )
      .bind(tenant.id, Date.parse(cutoff))
      .all<{ detail: string }>();
    const detail = plan.results.map((r) => r.detail).join(" | ");
    expect(detail).toContain("users_tenant_last_activity_idx");
    expect(detail).not.toContain("TEMP B-TREE");
  });
});
