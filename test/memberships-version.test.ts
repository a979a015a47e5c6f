/**
 * Every membership change, whichever API or background path makes it, changes the collection's
 * version: a SCIM group's ETag, meta.version and meta.lastModified. Also: concurrent /v1 and SCIM
 * member writers never fail because of each other, and the consumer's D1 round trips per event.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { systemClock } from "../src/core/context";
import { createDb } from "../src/db/client";
import type { QueueMessage } from "../src/events/messages";
import { createUser as coreCreateUser } from "../src/users/service";
import { createTenant, createUser, newUser, type TestTenant } from "./helpers";
import { patch, scim, scimBody } from "./scim/helpers";

async function makeGroup(t: TestTenant, body: Record<string, unknown>): Promise<string> {
  const res = await t.call("/v1/groups", { body });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** The SCIM view of the group's version: ETag header, meta.version (equal) and meta.lastModified. */
async function version(t: TestTenant, id: string) {
  const res = await scim(t, `/Groups/${id}?excludedAttributes=members`);
  expect(res.status).toBe(200);
  const body = await scimBody(res);
  expect(body.meta.version).toBe(res.headers.get("ETag"));
  return { etag: body.meta.version as string, lastModified: body.meta.lastModified as string };
}

async function memberIds(t: TestTenant, id: string): Promise<string[]> {
  const body = await scimBody(await scim(t, `/Groups/${id}`));
  return (body.members ?? []).map((m: { value: string }) => m.value).sort();
}

function expectChanged(before: { etag: string; lastModified: string }, after: { etag: string; lastModified: string }) {
  expect(after.etag).not.toBe(before.etag);
  expect(after.lastModified).not.toBe(before.lastModified);
}

async function provisioned(t: TestTenant, userId: string) {
  await vi.waitUntil(
    async () => ((await (await t.call(`/v1/users/${userId}`)).json()) as any).provisioning?.status === "completed",
    { timeout: 10_000, interval: 25 },
  );
}

describe("a member change from any path changes the SCIM group's version", () => {
  it("POST and DELETE /v1/groups/{id}/members; a no-op leaves it alone", async () => {
    const t = await createTenant();
    const [a, b] = [await createUser(t), await createUser(t)];
    const gid = await makeGroup(t, { name: "Rest members" });
    const v0 = await version(t, gid);
    const added = await t.call(`/v1/groups/${gid}/members`, { body: { userIds: [a.id, b.id] } });
    expect(await added.json()).toEqual({ added: [a.id, b.id], alreadyMembers: [] });
    const v1 = await version(t, gid);
    expectChanged(v0, v1);
    // Adding current members changes nothing, so the ETag stays.
    const again = await t.call(`/v1/groups/${gid}/members`, { body: { userIds: [a.id] } });
    expect(await again.json()).toEqual({ added: [], alreadyMembers: [a.id] });
    expect(await version(t, gid)).toEqual(v1);
    const removed = await t.call(`/v1/groups/${gid}/members`, { method: "DELETE", body: { userIds: [a.id, "nobody"] } });
    expect(await removed.json()).toEqual({ removed: [a.id], notMembers: ["nobody"] });
    expectChanged(v1, await version(t, gid));
    expect(await memberIds(t, gid)).toEqual([b.id]);
  });

  it("an If-Match taken before a /v1 member add is stale for SCIM (412), and the fresh one works", async () => {
    const t = await createTenant();
    const [a, b] = [await createUser(t), await createUser(t)];
    const gid = await makeGroup(t, { name: "Guarded" });
    const stale = (await version(t, gid)).etag;
    expect((await t.call(`/v1/groups/${gid}/members`, { body: { userIds: [a.id] } })).status).toBe(200);
    const body = patch({ op: "add", path: "members", value: [{ value: b.id }] });
    expect((await scim(t, `/Groups/${gid}`, { method: "PATCH", body, headers: { "If-Match": stale } })).status).toBe(412);
    const fresh = (await version(t, gid)).etag;
    const ok = await scim(t, `/Groups/${gid}`, { method: "PATCH", body, headers: { "If-Match": fresh } });
    expect(ok.status).toBe(204);
    expect(ok.headers.get("ETag")).toBe((await version(t, gid)).etag);
    expect(await memberIds(t, gid)).toEqual([a.id, b.id].sort());
  });

  it("a rule-based enrolment applied by the queue", async () => {
    const t = await createTenant();
    const gid = await makeGroup(t, { name: "Sales", rule: 'department eq "Sales"' });
    // Let the (empty) background run finish, so only the enrolment below can change the version.
    await vi.waitUntil(async () => ((await (await t.call(`/v1/groups/${gid}`)).json()) as any).ruleStatus === "applied", { timeout: 10_000, interval: 25 });
    const v0 = await version(t, gid);
    const user = await createUser(t, { department: "Sales" });
    await provisioned(t, user.id);
    expect(await memberIds(t, gid)).toEqual([user.id]);
    expectChanged(v0, await version(t, gid));
  });

  it("a user created with groups: [id]", async () => {
    const t = await createTenant();
    const gid = await makeGroup(t, { name: "Requested" });
    const v0 = await version(t, gid);
    const user = await createUser(t, { groups: [gid] });
    await provisioned(t, user.id);
    expect(await memberIds(t, gid)).toEqual([user.id]);
    expectChanged(v0, await version(t, gid));
  });
});

describe("concurrent member writers", () => {
  it("10 /v1 adds and 10 SCIM PATCH adds without If-Match on one group all succeed", async () => {
    const t = await createTenant();
    const users = await Promise.all(Array.from({ length: 20 }, () => createUser(t)));
    const gid = await makeGroup(t, { name: "Crowded" });
    const responses = await Promise.all(
      users.map((u, i) =>
        i % 2 === 0
          ? t.call(`/v1/groups/${gid}/members`, { body: { userIds: [u.id] } })
          : scim(t, `/Groups/${gid}`, { method: "PATCH", body: patch({ op: "add", path: "members", value: [{ value: u.id }] }) }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(users.map((_, i) => (i % 2 === 0 ? 200 : 204)));
    expect(await memberIds(t, gid)).toEqual(users.map((u) => u.id).sort());
    const added = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE tenant_id = ? AND type = 'membership.added'").bind(t.id).first<{ n: number }>();
    expect(added?.n).toBe(20);
  });
});

/** env.DB, counting D1 round trips: each batch() and each statement run outside a batch. */
function countingD1(counter: { trips: number }): D1Database {
  const unwrap = new WeakMap<object, D1PreparedStatement>();
  const wrap = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        if (prop === "bind") return (...args: unknown[]) => wrap(target.bind(...args));
        const v = Reflect.get(target, prop);
        if (typeof v !== "function") return v;
        if (prop === "all" || prop === "run" || prop === "raw" || prop === "first") {
          return (...args: unknown[]) => {
            counter.trips += 1;
            return (v as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return v.bind(target);
      },
    });
    unwrap.set(proxy, stmt);
    return proxy;
  };
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare") return (q: string) => wrap(target.prepare(q));
      if (prop === "batch") {
        return (stmts: D1PreparedStatement[]) => {
          counter.trips += 1;
          return target.batch(stmts.map((s) => unwrap.get(s) ?? s));
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

describe("the consumer's D1 round trips", () => {
  it("a user event with requested groups and a matching rule: one read batch, one write batch", async () => {
    const t = await createTenant();
    const g1 = await makeGroup(t, { name: "One" });
    const g2 = await makeGroup(t, { name: "Two", rule: 'title eq "Engineer"' });
    await vi.waitUntil(async () => ((await (await t.call(`/v1/groups/${g2}`)).json()) as any).ruleStatus === "applied", { timeout: 10_000, interval: 25 });
    // Written by the core without a dispatcher: only this test delivers the event.
    const user = await coreCreateUser({ db: createDb(env.DB), tenantId: t.id, clock: systemClock }, newUser({ title: "Engineer" }) as never, { memberships: { group: [g1] } });
    const event = await env.DB.prepare("SELECT id FROM events WHERE tenant_id = ? AND subject_id = ? ORDER BY seq DESC LIMIT 1").bind(t.id, user.id).first<{ id: string }>();
    const counter = { trips: 0 };
    const batch = createMessageBatch<QueueMessage>("provisioning-events", [{ id: "rt1", timestamp: new Date(), attempts: 1, body: { t: "event", tenantId: t.id, eventId: event!.id, shard: "us-1" } }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, DB: countingD1(counter) } as never, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["rt1"]);
    expect(counter.trips).toBe(2);
    expect(await memberIds(t, g1)).toEqual([user.id]);
    expect(await memberIds(t, g2)).toEqual([user.id]);
    // A redelivery reads, finds the event processed, and stops: one round trip.
    counter.trips = 0;
    const again = createMessageBatch<QueueMessage>("provisioning-events", [{ id: "rt2", timestamp: new Date(), attempts: 1, body: { t: "event", tenantId: t.id, eventId: event!.id, shard: "us-1" } }]);
    const ctx2 = createExecutionContext();
    await worker.queue(again, { ...env, DB: countingD1(counter) } as never, ctx2);
    expect((await getQueueResult(again, ctx2)).explicitAcks).toEqual(["rt2"]);
    expect(counter.trips).toBe(1);
  });
});
