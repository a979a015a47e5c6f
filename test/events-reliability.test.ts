/**
 * Outbox -> queue -> consumer reliability: exactly-once effects under redelivery and failures,
 * the sweep recovering a dropped send, dead letters made visible and replayable.
 */
import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { createDb } from "../src/db/client";
import { systemClock } from "../src/core/context";
import { createUser as coreCreateUser, updateUser as coreUpdateUser } from "../src/users/service";
import type { QueueMessage } from "../src/events/messages";
import { backoffSeconds } from "../src/events/consumer";
import { createTenant, createUser, newUser, problem, type TestTenant } from "./helpers";

async function eventRow(id: string) {
  return env.DB.prepare("SELECT * FROM events WHERE id = ?").bind(id).first<Record<string, any>>();
}

async function latestEvent(tenantId: string, subjectId: string) {
  return env.DB.prepare("SELECT * FROM events WHERE tenant_id = ? AND subject_id = ? ORDER BY seq DESC LIMIT 1").bind(tenantId, subjectId).first<Record<string, any>>();
}

async function createGroup(t: TestTenant, name: string, extra: Record<string, unknown> = {}) {
  const res = await t.call("/v1/groups", { body: { name, ...extra } });
  expect(res.status).toBe(201);
  return (await res.json()) as Record<string, any>;
}

async function waitForProvisioning(t: TestTenant, userId: string, status = "completed") {
  return vi.waitUntil(
    async () => {
      const res = await t.call(`/v1/users/${userId}`);
      const body = (await res.json()) as Record<string, any>;
      return body.provisioning?.status === status ? body : false;
    },
    { timeout: 10_000, interval: 50 },
  );
}

function eventBatch(messages: Array<{ id: string; body: QueueMessage; attempts?: number }>) {
  return createMessageBatch<QueueMessage>(
    "provisioning-events",
    messages.map((m) => ({ id: m.id, timestamp: new Date(), attempts: m.attempts ?? 1, body: m.body })),
  );
}

/** The SQL of a prepared statement (workerd keeps it on the statement). */
function sqlOf(stmt: D1PreparedStatement): string {
  const text = (stmt as unknown as { statement?: string }).statement;
  if (typeof text !== "string") throw new Error("cannot see the statement's SQL");
  return text;
}

/**
 * A D1 binding whose first `failures` WRITE batches commit and THEN throw: a crash after commit,
 * before ack. (The consumer's read batch comes first; failing it would test nothing.)
 */
function flakyAfterCommit(failures: number): D1Database {
  let left = failures;
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "batch") {
        return async (stmts: D1PreparedStatement[]) => {
          const writes = stmts.some((s) => !/^\s*select/i.test(sqlOf(s)));
          const result = await target.batch(stmts);
          if (writes && left > 0) {
            left -= 1;
            throw new Error("Network connection lost.");
          }
          return result;
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("outbox delivery", () => {
  it("sends the event after the write and the consumer marks it processed", async () => {
    const t = await createTenant();
    const user = await createUser(t);
    expect(user.provisioning).toEqual({ status: "pending" });
    const done = await waitForProvisioning(t, user.id);
    expect(done.provisioning.errors).toEqual([]);
    const event = await latestEvent(t.id, user.id);
    expect(event?.type).toBe("user.created");
    expect(event?.status).toBe("processed");
    expect(event?.attempts).toBeGreaterThanOrEqual(1);
    expect(event?.processed_at).not.toBeNull();
  });

  it("applies a redelivered event once (receipt) and acks every message", async () => {
    const t = await createTenant();
    const group = await createGroup(t, "Engineering");
    const user = await createUser(t, { groups: [group.id] });
    const created = await latestEvent(t.id, user.id);
    await waitForProvisioning(t, user.id);
    // Deliver the same event twice more, in one batch, as Queues may.
    const batch = eventBatch([
      { id: "m1", body: { t: "event", tenantId: t.id, eventId: created!.id } },
      { id: "m2", body: { t: "event", tenantId: t.id, eventId: created!.id } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["m1", "m2"]);
    expect(result.retryMessages).toEqual([]);
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM memberships WHERE tenant_id = ? AND user_id = ?").bind(t.id, user.id).first<{ n: number }>();
    expect(rows?.n).toBe(1);
    const added = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE tenant_id = ? AND subject_id = ? AND type = 'membership.added'").bind(t.id, user.id).first<{ n: number }>();
    expect(added?.n).toBe(1);
  });

  it("a consumer that fails after committing on its first attempts still applies every effect exactly once", async () => {
    const t = await createTenant();
    const g1 = await createGroup(t, "Alpha");
    const g2 = await createGroup(t, "Beta");
    // Written by the core with no dispatcher: nothing is sent, so only this test delivers it.
    const db = createDb(env.DB);
    const user = await coreCreateUser({ db, tenantId: t.id, clock: systemClock }, newUser() as never, { memberships: { group: [g1.id, g2.id] } });
    const event = await latestEvent(t.id, user.id);
    const flakyEnv = { ...env, DB: flakyAfterCommit(2) };
    const results = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const batch = eventBatch([{ id: `a${attempt}`, attempts: attempt, body: { t: "event", tenantId: t.id, eventId: event!.id } }]);
      const ctx = createExecutionContext();
      await worker.queue(batch, flakyEnv as never, ctx);
      results.push(await getQueueResult(batch, ctx));
    }
    // Attempt 1 commits then "crashes": retried. Attempt 2 hits the receipt: acked without effects.
    expect(results[0]!.retryMessages.map((m) => m.msgId)).toEqual(["a1"]);
    expect(results[0]!.explicitAcks).toEqual([]);
    expect(results.slice(1).every((r) => r.retryMessages.length === 0 || r.explicitAcks.length === 0)).toBe(true);
    expect(results[2]!.explicitAcks).toEqual(["a3"]);
    const members = await env.DB.prepare("SELECT collection_id FROM memberships WHERE tenant_id = ? AND user_id = ? AND ended_at IS NULL ORDER BY collection_id")
      .bind(t.id, user.id)
      .all<{ collection_id: string }>();
    expect(members.results.map((r) => r.collection_id)).toEqual([g1.id, g2.id].sort());
    const added = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE tenant_id = ? AND subject_id = ? AND type = 'membership.added'").bind(t.id, user.id).first<{ n: number }>();
    expect(added?.n).toBe(2);
    expect((await eventRow(event!.id))?.status).toBe("processed");
  });

  it("an older membership request delivered after a newer one does not undo it", async () => {
    const t = await createTenant();
    const g1 = await createGroup(t, "Old");
    const g2 = await createGroup(t, "New");
    const o = await (await t.call("/v1/organizations", { body: { name: "Org" } })).json() as { id: string };
    const db = createDb(env.DB);
    const core = { db, tenantId: t.id, clock: systemClock };
    const user = await coreCreateUser(core, newUser() as never, { memberships: { group: [g1.id], organization: [o.id] } });
    const older = await latestEvent(t.id, user.id);
    await coreUpdateUser(core, user.id, { title: "Lead" }, { memberships: { group: [g2.id] } });
    const newer = await latestEvent(t.id, user.id);
    expect(newer!.seq).toBeGreaterThan(older!.seq);
    for (const [i, e] of [newer, older].entries()) {
      const batch = eventBatch([{ id: `o${i}`, body: { t: "event", tenantId: t.id, eventId: e!.id } }]);
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([`o${i}`]);
    }
    const current = await env.DB.prepare("SELECT collection_id FROM memberships WHERE tenant_id = ? AND user_id = ? AND ended_at IS NULL ORDER BY collection_id")
      .bind(t.id, user.id)
      .all<{ collection_id: string }>();
    // The newer group list wins; the older event's other kind (organizations) still applies.
    expect(current.results.map((r) => r.collection_id)).toEqual([g2.id, o.id].sort());
  });

  it("retries with exponential backoff when the consumer throws before committing", async () => {
    const t = await createTenant();
    const db = createDb(env.DB);
    const user = await coreCreateUser({ db, tenantId: t.id, clock: systemClock }, newUser() as never);
    const event = await latestEvent(t.id, user.id);
    const broken = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "batch") return async () => { throw new Error("D1_ERROR: storage caused object to be reset"); };
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const batch = eventBatch([{ id: "b3", attempts: 3, body: { t: "event", tenantId: t.id, eventId: event!.id } }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, DB: broken, EVENTS_RETRY_BASE_SECONDS: "2" } as never, ctx);
    const result = await getQueueResult(batch, ctx);
    // getQueueResult does not report delaySeconds (vitest-plugin 1.5), so the schedule is checked directly.
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["b3"]);
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffSeconds({ EVENTS_RETRY_BASE_SECONDS: "2" } as never, n))).toEqual([2, 4, 8, 16, 32, 40, 40]);
    expect(backoffSeconds({ EVENTS_RETRY_BASE_SECONDS: "0" } as never, 3)).toBe(0);
    const row = await eventRow(event!.id);
    expect(row?.status).not.toBe("processed");
    // The admin-visible reason never carries SQL or driver text.
    expect(row?.error).toMatch(/^attempt 3: internal error/);
    expect(row?.error).not.toMatch(/D1_ERROR|INSERT|SELECT/);
  });

  it("the sweep re-sends an event whose queue send was lost", async () => {
    const t = await createTenant();
    const group = await createGroup(t, "Sweepers");
    const db = createDb(env.DB);
    // A crash between commit and send: the event is in the outbox, the queue never saw it.
    const user = await coreCreateUser({ db, tenantId: t.id, clock: systemClock }, newUser() as never, { memberships: { group: [group.id] } });
    const event = await latestEvent(t.id, user.id);
    expect(event?.status).toBe("pending");
    // Not yet a minute old: the sweep leaves it alone.
    let ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect((await eventRow(event!.id))?.status).toBe("pending");
    await env.DB.prepare("UPDATE events SET created_at = created_at - 61000 WHERE id = ?").bind(event!.id).run();
    ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    const done = await waitForProvisioning(t, user.id);
    expect(done.memberships.groups.map((g: { id: string }) => g.id)).toEqual([group.id]);
    expect((await eventRow(event!.id))?.status).toBe("processed");
  });

  it("the sweep re-sends more events than fit in one send batch", async () => {
    const t = await createTenant();
    const db = createDb(env.DB);
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) ids.push((await coreCreateUser({ db, tenantId: t.id, clock: systemClock }, newUser() as never)).id);
    await env.DB.prepare("UPDATE events SET created_at = created_at - 120000 WHERE tenant_id = ?").bind(t.id).run();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    const unsent = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE tenant_id = ? AND type = 'user.created' AND attempts = 0").bind(t.id).first<{ n: number }>();
    expect(unsent?.n).toBe(0);
    await vi.waitUntil(
      async () => (await env.DB.prepare("SELECT count(*) AS n FROM events WHERE tenant_id = ? AND type = 'user.created' AND status = 'processed'").bind(t.id).first<{ n: number }>())?.n === 100,
      { timeout: 15_000, interval: 100 },
    );
    const done = await env.DB.prepare("SELECT count(*) AS n FROM user_provisioning WHERE tenant_id = ? AND status = 'completed'").bind(t.id).first<{ n: number }>();
    expect(done?.n).toBe(100);
  });

  it("dead letters mark the event and the provisioning failed; an admin replays it", async () => {
    const t = await createTenant();
    const group = await createGroup(t, "Replayed");
    const db = createDb(env.DB);
    const user = await coreCreateUser({ db, tenantId: t.id, clock: systemClock }, newUser() as never, { memberships: { group: [group.id] } });
    const event = await latestEvent(t.id, user.id);
    const batch = createMessageBatch<QueueMessage>("provisioning-events-dlq", [
      { id: "d1", timestamp: new Date(), attempts: 1, body: { t: "event", tenantId: t.id, eventId: event!.id } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["d1"]);
    const failed = await waitForProvisioning(t, user.id, "failed");
    expect(failed.provisioning.errors[0].reason).toMatch(/replay/);
    const shown = (await (await t.call(`/v1/events/${event!.id}`)).json()) as Record<string, any>;
    expect(shown.delivery.status).toBe("failed");

    // Replay needs the admin scope.
    const tokenRes = await t.call("/v1/api-tokens", { body: { name: "reader", scopes: ["users:read", "users:write"] } });
    const reader = ((await tokenRes.json()) as { token: string }).token;
    const denied = await t.call(`/v1/events/${event!.id}/replay`, { method: "POST", token: reader });
    expect(denied.status).toBe(403);

    const replay = await t.call(`/v1/events/${event!.id}/replay`, { method: "POST" });
    expect(replay.status).toBe(202);
    const done = await waitForProvisioning(t, user.id);
    expect(done.memberships.groups.map((g: { id: string }) => g.id)).toEqual([group.id]);
    const again = await t.call(`/v1/events/${event!.id}/replay`, { method: "POST" });
    expect(again.status).toBe(409);
    expect((await problem(again)).code).toBe("event_already_processed");
    const unknown = await t.call(`/v1/events/01938f5e-7c1a-7b3e-9f1e-2d7a1c9b0e11/replay`, { method: "POST" });
    expect(unknown.status).toBe(404);
  });

  it("ignores a message whose event belongs to another tenant", async () => {
    const t1 = await createTenant();
    const t2 = await createTenant();
    const g = await createGroup(t1, "Mine");
    const db = createDb(env.DB);
    const user = await coreCreateUser({ db, tenantId: t1.id, clock: systemClock }, newUser() as never, { memberships: { group: [g.id] } });
    const event = await latestEvent(t1.id, user.id);
    const batch = eventBatch([{ id: "x1", body: { t: "event", tenantId: t2.id, eventId: event!.id } }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["x1"]);
    expect((await eventRow(event!.id))?.status).toBe("pending");
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM memberships WHERE user_id = ?").bind(user.id).first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it("admins find failed events with ?status=failed; others may not filter by status", async () => {
    const t = await createTenant();
    const db = createDb(env.DB);
    const user = await coreCreateUser({ db, tenantId: t.id, clock: systemClock }, newUser() as never);
    const event = await latestEvent(t.id, user.id);
    await env.DB.prepare("UPDATE events SET status = 'failed' WHERE id = ?").bind(event!.id).run();
    const res = await t.call("/v1/events?status=failed");
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).data.map((e: any) => e.id)).toEqual([event!.id]);
    const tokenRes = await t.call("/v1/api-tokens", { body: { name: "reader", scopes: ["users:read"] } });
    const reader = ((await tokenRes.json()) as { token: string }).token;
    expect((await t.call("/v1/events?status=failed", { token: reader })).status).toBe(403);
    expect((await t.call("/v1/events?status=lost")).status).toBe(400);
  });

  it("erasing a user ends all their memberships", async () => {
    const t = await createTenant();
    const g = await createGroup(t, "Erasable");
    const user = await createUser(t, { groups: [g.id] });
    await waitForProvisioning(t, user.id);
    expect((await t.call(`/v1/users/${user.id}?erase=true`, { method: "DELETE" })).status).toBe(200);
    await vi.waitUntil(async () => (await latestEvent(t.id, user.id))?.status === "processed" || false, { timeout: 10_000, interval: 50 });
    const current = await env.DB.prepare("SELECT count(*) AS n FROM memberships WHERE tenant_id = ? AND user_id = ? AND ended_at IS NULL").bind(t.id, user.id).first<{ n: number }>();
    expect(current?.n).toBe(0);
  });

  it("documents the new endpoints in the OpenAPI document", async () => {
    const t = await createTenant();
    const doc = (await (await t.call("/openapi.json")).json()) as any;
    for (const path of ["/v1/events", "/v1/events/{id}/replay", "/v1/groups/{id}/members", "/v1/access-groups", "/v1/organizations/{id}"]) {
      expect(doc.paths).toHaveProperty([path]);
    }
  });
});
