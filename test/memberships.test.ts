/** Collections (four kinds, one mechanism) and memberships applied asynchronously by the consumer. */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createTenant, createUser, problem, type TestTenant } from "./helpers";

const KINDS = ["groups", "campaigns", "access-groups", "organizations"] as const;

async function make(t: TestTenant, kind: string, body: Record<string, unknown>) {
  const res = await t.call(`/v1/${kind}`, { body });
  if (res.status !== 201) throw new Error(`create ${kind} failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, any>;
}

async function settled(t: TestTenant, userId: string, status = "completed") {
  return vi.waitUntil(
    async () => {
      const body = (await (await t.call(`/v1/users/${userId}`)).json()) as Record<string, any>;
      if (body.provisioning?.status === "failed" && status !== "failed") throw new Error(`provisioning failed: ${JSON.stringify(body.provisioning)}`);
      return body.provisioning?.status === status ? body : false;
    },
    { timeout: 10_000, interval: 50 },
  );
}

/** Waits until every queued event of the tenant has been processed. */
async function drained(tenantId: string) {
  await vi.waitUntil(
    async () => {
      const row = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE tenant_id = ? AND status IN ('pending','sent')").bind(tenantId).first<{ n: number }>();
      return row?.n === 0;
    },
    { timeout: 10_000, interval: 50 },
  );
}

const ids = (list: Array<{ id: string }>) => list.map((x) => x.id).sort();

describe("collections", () => {
  it.each(KINDS)("%s: create, read, list, update, delete with one mechanism", async (kind) => {
    const t = await createTenant();
    const a = await make(t, kind, { name: "Alpha", externalId: "A-1", description: "first" });
    expect(a).toMatchObject({ name: "Alpha", externalId: "A-1", rule: null });
    const dup = await t.call(`/v1/${kind}`, { body: { name: "Alpha" } });
    expect(dup.status).toBe(409);
    expect((await problem(dup)).errors[0].path).toBe("name");
    const dupExt = await t.call(`/v1/${kind}`, { body: { name: "Other", externalId: "A-1" } });
    expect((await problem(dupExt)).errors[0].path).toBe("externalId");
    const b = await make(t, kind, { name: "Beta" });
    const c = await make(t, kind, { name: "Gamma" });

    const p1 = (await (await t.call(`/v1/${kind}?limit=2`)).json()) as Record<string, any>;
    const p2 = (await (await t.call(`/v1/${kind}?limit=2&cursor=${p1.pagination.nextCursor}`)).json()) as Record<string, any>;
    expect([...p1.data, ...p2.data].map((x: any) => x.name)).toEqual(["Alpha", "Beta", "Gamma"]);
    expect(p2.pagination.nextCursor).toBeNull();

    const patched = await t.call(`/v1/${kind}/${b.id}`, { method: "PATCH", body: { name: "Beta 2", description: null } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ name: "Beta 2", description: null });
    expect((await t.call(`/v1/${kind}/${c.id}`, { method: "PATCH", body: { name: "Alpha" } })).status).toBe(409);

    expect((await t.call(`/v1/${kind}/${a.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await t.call(`/v1/${kind}/${a.id}`)).status).toBe(404);
    // The name is free again once deleted.
    await make(t, kind, { name: "Alpha" });
    // The id of another kind is not found under this kind.
    const otherKind = kind === "groups" ? "campaigns" : "groups";
    expect((await t.call(`/v1/${otherKind}/${b.id}`)).status).toBe(404);
  });

  it("validates bodies, naming the field", async () => {
    const t = await createTenant();
    const res = await t.call("/v1/groups", { body: { name: "", colour: "red" } });
    expect(res.status).toBe(400);
    const paths = (await problem(res)).errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(["colour", "name"]);
  });

  it("refuses what it cannot do, saying why", async () => {
    const t = await createTenant();
    const g = await make(t, "groups", { name: "Guarded" });
    const tokenRes = await t.call("/v1/api-tokens", { body: { name: "reader", scopes: ["users:read"] } });
    const reader = ((await tokenRes.json()) as { token: string }).token;
    expect((await t.call("/v1/groups", { token: reader })).status).toBe(200);
    expect((await t.call("/v1/groups", { token: reader, body: { name: "X" } })).status).toBe(403);
    expect((await t.call(`/v1/groups/${g.id}/members`, { token: reader, body: { userIds: ["a"] } })).status).toBe(403);

    const empty = await t.call(`/v1/groups/${g.id}/members`, { body: { userIds: [] } });
    expect((await problem(empty)).errors[0]).toEqual({ path: "userIds", message: "must list at least one user id" });
    const tooMany = await t.call(`/v1/groups/${g.id}/members`, { body: { userIds: Array.from({ length: 101 }, (_, i) => `u${i}`) } });
    expect((await problem(tooMany)).errors[0].path).toBe("userIds");
    expect((await t.call("/v1/groups/no-such-id", { method: "PATCH", body: { name: "Y" } })).status).toBe(404);
    expect((await t.call("/v1/groups/no-such-id", { method: "DELETE" })).status).toBe(404);
    const badRule = await t.call(`/v1/groups/${g.id}`, { method: "PATCH", body: { rule: "title eq" } });
    expect(badRule.status).toBe(400);
    expect((await problem(badRule)).code).toBe("invalid_rule");
    expect((await t.call("/v1/teams")).status).toBe(404);
    // Another tenant cannot see or change this tenant's collection.
    const other = await createTenant();
    expect((await other.call(`/v1/groups/${g.id}`)).status).toBe(404);
    expect((await other.call(`/v1/groups/${g.id}/members`, { body: { userIds: ["x"] } })).status).toBe(404);
  });

  it("adds and removes members explicitly, pages them, and keeps history", async () => {
    const t = await createTenant();
    const g = await make(t, "groups", { name: "Readers" });
    const users = [];
    for (let i = 0; i < 5; i++) users.push(await createUser(t));
    const add = await t.call(`/v1/groups/${g.id}/members`, { body: { userIds: users.map((u) => u.id) } });
    expect(add.status).toBe(200);
    expect(((await add.json()) as any).added).toHaveLength(5);
    const again = (await (await t.call(`/v1/groups/${g.id}/members`, { body: { userIds: [users[0]!.id] } })).json()) as any;
    expect(again).toEqual({ added: [], alreadyMembers: [users[0]!.id] });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.call(`/v1/groups/${g.id}/members?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      const body = (await res.json()) as any;
      seen.push(...body.data.map((m: any) => m.userId));
      cursor = body.pagination.nextCursor;
    } while (cursor);
    expect(seen).toEqual(users.map((u) => u.id).sort());

    const removed = (await (await t.call(`/v1/groups/${g.id}/members`, { method: "DELETE", body: { userIds: [users[1]!.id, users[1]!.id] } })).json()) as any;
    expect(removed).toEqual({ removed: [users[1]!.id], notMembers: [] });
    const history = await env.DB.prepare("SELECT ended_at, end_reason FROM memberships WHERE tenant_id = ? AND user_id = ?").bind(t.id, users[1]!.id).all<any>();
    expect(history.results).toHaveLength(1);
    expect(history.results[0].ended_at).not.toBeNull();

    const unknown = await t.call(`/v1/groups/${g.id}/members`, { body: { userIds: ["nope"] } });
    expect(unknown.status).toBe(400);
    expect((await problem(unknown)).errors[0]).toEqual({ path: "userIds[0]", message: "no user with id 'nope' exists in this tenant" });
    expect((await t.call(`/v1/groups/nope/members`)).status).toBe(404);

    // membership.added / membership.removed are in the feed.
    const feed = (await (await t.call("/v1/events?types=membership.added,membership.removed&limit=100")).json()) as any;
    expect(feed.data.filter((e: any) => e.type === "membership.added")).toHaveLength(5);
    expect(feed.data.filter((e: any) => e.type === "membership.removed").map((e: any) => e.subjectId)).toEqual([users[1]!.id]);
    expect(feed.data[0].data.collection).toEqual({ id: g.id, kind: "group", name: "Readers" });
  });

  it("deleting a collection ends its memberships", async () => {
    const t = await createTenant();
    const g = await make(t, "groups", { name: "Temp" });
    const u = await createUser(t, { groups: [g.id] });
    expect((await settled(t, u.id)).memberships.groups).toHaveLength(1);
    expect((await t.call(`/v1/groups/${g.id}`, { method: "DELETE" })).status).toBe(204);
    const after = (await (await t.call(`/v1/users/${u.id}`)).json()) as any;
    expect(after.memberships.groups).toEqual([]);
  });
});

describe("memberships requested on user writes", () => {
  it("POST returns pending at once; the consumer applies every kind and completes", async () => {
    const t = await createTenant();
    const g = await make(t, "groups", { name: "Eng" });
    const c = await make(t, "campaigns", { name: "Security 101" });
    const a = await make(t, "access-groups", { name: "VPN" });
    const o = await make(t, "organizations", { name: "Acme EU" });
    const u = await createUser(t, { groups: [g.id], campaigns: [c.id], accessGroups: [a.id], organizationIds: [o.id] });
    expect(u.provisioning).toEqual({ status: "pending" });
    expect(u).not.toHaveProperty("groups");
    const done = await settled(t, u.id);
    expect(ids(done.memberships.groups)).toEqual([g.id]);
    expect(ids(done.memberships.campaigns)).toEqual([c.id]);
    expect(ids(done.memberships.accessGroups)).toEqual([a.id]);
    expect(ids(done.memberships.organizations)).toEqual([o.id]);
    expect(done.memberships.groups[0].source).toBe("manual");
    expect(done.provisioning.errors).toEqual([]);
    expect(done.provisioning.completedAt).not.toBeNull();
    // The request travelled in the user.created event, committed with the user.
    const feed = (await (await t.call("/v1/events?types=user.created")).json()) as any;
    expect(feed.data[0].data.memberships).toEqual({ group: [g.id], campaign: [c.id], access_group: [a.id], organization: [o.id] });
  });

  it("an unknown id ends as failed with a per-item reason; valid ids are still applied", async () => {
    const t = await createTenant();
    const g = await make(t, "groups", { name: "Real" });
    const c = await make(t, "campaigns", { name: "Not a group" });
    const u = await createUser(t, { groups: [g.id, "does-not-exist", c.id] });
    const done = await settled(t, u.id, "failed");
    expect(done.provisioning.errors).toEqual([
      { kind: "groups", id: "does-not-exist", reason: "no group with id 'does-not-exist' exists in this tenant" },
      { kind: "groups", id: c.id, reason: `no group with id '${c.id}' exists in this tenant` },
    ]);
    expect(ids(done.memberships.groups)).toEqual([g.id]);
    expect(done.memberships.campaigns).toEqual([]);
  });

  it("another tenant's collection ids are unknown ids", async () => {
    const t1 = await createTenant();
    const t2 = await createTenant();
    const foreign = await make(t1, "groups", { name: "Theirs" });
    const u = await createUser(t2, { groups: [foreign.id] });
    const done = await settled(t2, u.id, "failed");
    expect(done.provisioning.errors[0].id).toBe(foreign.id);
    expect(done.memberships.groups).toEqual([]);
  });

  it("PATCH replaces the listed kinds' manual memberships and leaves other kinds alone", async () => {
    const t = await createTenant();
    const g1 = await make(t, "groups", { name: "One" });
    const g2 = await make(t, "groups", { name: "Two" });
    const o = await make(t, "organizations", { name: "Org" });
    const u = await createUser(t, { groups: [g1.id], organizationIds: [o.id] });
    await settled(t, u.id);
    const res = await t.call(`/v1/users/${u.id}`, { method: "PATCH", body: { groups: [g2.id] } });
    expect(res.status).toBe(200);
    const patched = (await res.json()) as any;
    // The status of the event this PATCH wrote (user.memberships_requested), not of the creation.
    expect(patched.provisioning).toMatchObject({ status: "pending", completedAt: null, errors: [] });
    expect(patched.provisioning.eventId).not.toBe(u.provisioning?.eventId);
    expect(patched.version).toBe(1); // Only memberships were asked for: the user row is unchanged.
    const done = await settled(t, u.id);
    expect(ids(done.memberships.groups)).toEqual([g2.id]);
    expect(ids(done.memberships.organizations)).toEqual([o.id]);
    // An empty list removes every manual membership of that kind.
    await t.call(`/v1/users/${u.id}`, { method: "PATCH", body: { groups: [], title: "CTO" } });
    const cleared = await settled(t, u.id);
    expect(cleared.memberships.groups).toEqual([]);
    expect(cleared.title).toBe("CTO");
  });

  it("an Idempotency-Key retry replays the pending response and applies the memberships once", async () => {
    const t = await createTenant();
    const g = await make(t, "groups", { name: "Once" });
    const body = { firstName: "I", lastName: "K", email: "ik@example.com", externalId: "IK-1", groups: [g.id] };
    const first = await t.call("/v1/users", { body, headers: { "Idempotency-Key": "create-ik-1" } });
    const second = await t.call("/v1/users", { body, headers: { "Idempotency-Key": "create-ik-1" } });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    const a = (await first.json()) as any;
    const b = (await second.json()) as any;
    expect(b).toEqual(a);
    expect(b.provisioning).toEqual({ status: "pending" });
    await settled(t, a.id);
    const n = await env.DB.prepare("SELECT count(*) AS n FROM memberships WHERE tenant_id = ? AND user_id = ?").bind(t.id, a.id).first<{ n: number }>();
    expect(n?.n).toBe(1);
  });

  it("rejects malformed membership lists synchronously", async () => {
    const t = await createTenant();
    const res = await t.call("/v1/users", { body: { firstName: "A", lastName: "B", email: "a@b.co", externalId: "x1", groups: "g1" } });
    expect(res.status).toBe(400);
    expect((await problem(res)).errors[0].path).toBe("groups");
    const tooMany = await t.call("/v1/users", { body: { firstName: "A", lastName: "B", email: "a@b.co", externalId: "x1", campaigns: Array.from({ length: 101 }, (_, i) => `c${i}`) } });
    expect((await problem(tooMany)).errors[0].path).toBe("campaigns");
  });

  it("deactivation ends campaign and access-group memberships (kept as history); groups stay", async () => {
    const t = await createTenant();
    const g = await make(t, "groups", { name: "Stays" });
    const c = await make(t, "campaigns", { name: "Ends" });
    const a = await make(t, "access-groups", { name: "Ends too" });
    const u = await createUser(t, { groups: [g.id], campaigns: [c.id], accessGroups: [a.id] });
    await settled(t, u.id);
    expect((await t.call(`/v1/users/${u.id}`, { method: "DELETE" })).status).toBe(200);
    await drained(t.id);
    const after = (await (await t.call(`/v1/users/${u.id}`)).json()) as any;
    expect(ids(after.memberships.groups)).toEqual([g.id]);
    expect(after.memberships.campaigns).toEqual([]);
    expect(after.memberships.accessGroups).toEqual([]);
    const history = await env.DB.prepare("SELECT collection_id, end_reason FROM memberships WHERE tenant_id = ? AND user_id = ? AND ended_at IS NOT NULL ORDER BY collection_id")
      .bind(t.id, u.id)
      .all<any>();
    expect(history.results.map((r: any) => r.end_reason)).toEqual(["user deactivated", "user deactivated"]);
    // Campaigns refuse inactive users, explicitly and by request.
    const explicit = await t.call(`/v1/campaigns/${c.id}/members`, { body: { userIds: [u.id] } });
    expect(explicit.status).toBe(400);
    expect((await problem(explicit)).errors[0].message).toMatch(/deactivated/);
  });
});
