/** Audience rules: validation, enrolment that follows attribute changes both ways, background runs. */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../src/index";
import type { QueueMessage } from "../src/events/messages";
import { describe, expect, it, vi } from "vitest";
import { createDb } from "../src/db/client";
import { systemClock } from "../src/core/context";
import { createUser as coreCreateUser } from "../src/users/service";
import { createTenant, createUser, newUser, problem, type TestTenant } from "./helpers";

async function make(t: TestTenant, kind: string, body: Record<string, unknown>) {
  const res = await t.call(`/v1/${kind}`, { body });
  if (res.status !== 201) throw new Error(`create ${kind} failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, any>;
}

async function drained(tenantId: string) {
  await vi.waitUntil(
    async () => {
      const row = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE tenant_id = ? AND status IN ('pending','sent')").bind(tenantId).first<{ n: number }>();
      return row?.n === 0;
    },
    { timeout: 10_000, interval: 50 },
  );
}

async function memberIds(collectionId: string, tenantId: string): Promise<string[]> {
  const rows = await env.DB.prepare("SELECT user_id FROM memberships WHERE tenant_id = ? AND collection_id = ? AND ended_at IS NULL ORDER BY user_id")
    .bind(tenantId, collectionId)
    .all<{ user_id: string }>();
  return rows.results.map((r) => r.user_id);
}

async function campaignsOf(t: TestTenant, userId: string): Promise<Array<{ id: string; source: string }>> {
  const body = (await (await t.call(`/v1/users/${userId}`)).json()) as any;
  return body.memberships.campaigns;
}

describe("rule validation", () => {
  it.each([
    ["department eq", /not a valid SCIM filter/],
    ['shoeSize gt 40', /'shoeSize' is not an attribute/],
    ['emails[type eq "work"]', /value filters are not supported/],
    ['attributes.department eq "x"', /'attributes.department' is not an attribute/],
  ])("rejects %s", async (rule, message) => {
    const t = await createTenant();
    const res = await t.call("/v1/campaigns", { body: { name: "C", rule } });
    expect(res.status).toBe(400);
    const body = await problem(res);
    expect(body.code).toBe("invalid_rule");
    expect(body.errors[0].path).toBe("rule");
    expect(body.errors[0].message).toMatch(message);
  });

  it("accepts built-in and custom attributes, in either custom form", async () => {
    const t = await createTenant();
    expect((await t.call("/v1/available-attributes", { body: { key: "costCenter", type: "string" } })).status).toBe(201);
    await make(t, "groups", { name: "A", rule: 'department eq "Sales" and active eq true' });
    await make(t, "groups", { name: "B", rule: 'costCenter sw "CC-1" or attributes.costCenter eq "X"' });
    await make(t, "groups", { name: "C", rule: "not (title pr)" });
    const tooLong = await t.call("/v1/groups", { body: { name: "D", rule: `title eq "${"x".repeat(2100)}"` } });
    expect(tooLong.status).toBe(400);
  });
});

describe("rule-based enrolment", () => {
  it("follows attribute changes both ways, and activation", async () => {
    const t = await createTenant();
    const c = await make(t, "campaigns", { name: "Sales onboarding", rule: 'department eq "Sales" and active eq true' });
    const g = await make(t, "groups", { name: "Not sales", rule: 'not (department eq "Sales")' });
    await drained(t.id);
    const u = await createUser(t, { department: "sales" }); // SCIM string comparison ignores case
    await drained(t.id);
    expect(await campaignsOf(t, u.id)).toMatchObject([{ id: c.id, source: "rule" }]);
    expect(await memberIds(g.id, t.id)).toEqual([]);

    await t.call(`/v1/users/${u.id}`, { method: "PATCH", body: { department: "Ops" } });
    await drained(t.id);
    expect(await campaignsOf(t, u.id)).toEqual([]);
    expect(await memberIds(g.id, t.id)).toEqual([u.id]);

    await t.call(`/v1/users/${u.id}`, { method: "PATCH", body: { department: "Sales" } });
    await drained(t.id);
    expect(await campaignsOf(t, u.id)).toMatchObject([{ id: c.id }]);
    expect(await memberIds(g.id, t.id)).toEqual([]);

    // Deactivation ends the enrolment; reactivation re-evaluates the rule and enrols again.
    await t.call(`/v1/users/${u.id}`, { method: "DELETE" });
    await drained(t.id);
    expect(await campaignsOf(t, u.id)).toEqual([]);
    await t.call(`/v1/users/${u.id}`, { method: "PATCH", body: { active: true } });
    await drained(t.id);
    expect(await campaignsOf(t, u.id)).toMatchObject([{ id: c.id, source: "rule" }]);

    // History: three enrolments, two ended, each start/stop in the feed.
    const rows = await env.DB.prepare("SELECT ended_at FROM memberships WHERE tenant_id = ? AND collection_id = ? AND user_id = ?").bind(t.id, c.id, u.id).all<any>();
    expect(rows.results.filter((r: any) => r.ended_at !== null)).toHaveLength(2);
    const feed = (await (await t.call("/v1/events?types=membership.added,membership.removed&limit=100")).json()) as any;
    const forCampaign = feed.data.filter((e: any) => e.data.collection.id === c.id).map((e: any) => e.type);
    expect(forCampaign).toEqual(["membership.added", "membership.removed", "membership.added", "membership.removed", "membership.added"]);
  });

  it("works on custom attributes and never ends a manual membership", async () => {
    const t = await createTenant();
    await t.call("/v1/available-attributes", { body: { key: "costCenter", type: "string" } });
    const g = await make(t, "groups", { name: "CC-1xx", rule: 'costCenter sw "CC-1"' });
    await drained(t.id);
    const matching = await createUser(t, { attributes: { costCenter: "CC-100" } });
    const manual = await createUser(t, { attributes: { costCenter: "CC-900" }, groups: [g.id] });
    await drained(t.id);
    expect(await memberIds(g.id, t.id)).toEqual([matching.id, manual.id].sort());
    await t.call(`/v1/users/${manual.id}`, { method: "PATCH", body: { attributes: { costCenter: "CC-901" } } });
    await t.call(`/v1/users/${matching.id}`, { method: "PATCH", body: { attributes: { costCenter: null } } });
    await drained(t.id);
    expect(await memberIds(g.id, t.id)).toEqual([manual.id]);
  });

  it("a new or changed rule is applied to existing users in the background, page by page", async () => {
    const t = await createTenant();
    const db = createDb(env.DB);
    // 130 users (more than one page of 100), written without sending their events so that only
    // the background rule run can enrol them.
    const sales: string[] = [];
    const ops: string[] = [];
    for (let i = 0; i < 130; i++) {
      const dept = i % 2 === 0 ? "Sales" : "Ops";
      const u = await coreCreateUser({ db, tenantId: t.id, clock: systemClock }, newUser({ department: dept }) as never);
      (dept === "Sales" ? sales : ops).push(u.id);
    }
    const c = await make(t, "campaigns", { name: "Sales", rule: 'department eq "Sales"' });
    expect(c.ruleStatus).toBe("applying");
    await vi.waitUntil(async () => (await memberIds(c.id, t.id)).length === sales.length, { timeout: 15_000, interval: 100 });
    expect(await memberIds(c.id, t.id)).toEqual(sales.sort());
    await vi.waitUntil(async () => ((await (await t.call(`/v1/campaigns/${c.id}`)).json()) as any).ruleStatus === "applied", { timeout: 5_000 });

    const patched = await t.call(`/v1/campaigns/${c.id}`, { method: "PATCH", body: { rule: 'department eq "Ops"' } });
    expect(patched.status).toBe(200);
    await vi.waitUntil(async () => JSON.stringify(await memberIds(c.id, t.id)) === JSON.stringify(ops.sort()), { timeout: 15_000, interval: 100 });

    // Removing the rule un-enrols everyone the rule had enrolled.
    await t.call(`/v1/campaigns/${c.id}`, { method: "PATCH", body: { rule: null } });
    await vi.waitUntil(async () => (await memberIds(c.id, t.id)).length === 0, { timeout: 15_000, interval: 100 });
  });

  it("a dead-lettered rule run shows failed; re-saving the rule runs it again", async () => {
    const t = await createTenant();
    const u = await createUser(t, { department: "Legal" });
    await drained(t.id);
    // Rules from the start, so that only the background run could enrol the existing user.
    const g = await make(t, "groups", { name: "Legal", rule: 'department eq "Legal"' });
    await vi.waitUntil(async () => ((await (await t.call(`/v1/groups/${g.id}`)).json()) as any).ruleStatus === "applied", { timeout: 10_000 });
    expect(await memberIds(g.id, t.id)).toEqual([u.id]);
    // Simulate the run's message dying in the DLQ (as after max_retries).
    await env.DB.prepare("UPDATE memberships SET ended_at = 1, end_reason = 'test' WHERE collection_id = ?").bind(g.id).run();
    const batch = createMessageBatch<QueueMessage>("provisioning-events-dlq", [
      { id: "r1", timestamp: new Date(), attempts: 1, body: { t: "rule-page", tenantId: t.id, collectionId: g.id, ruleVersion: 1, after: null } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["r1"]);
    expect(((await (await t.call(`/v1/groups/${g.id}`)).json()) as any).ruleStatus).toBe("failed");
    const resaved = await t.call(`/v1/groups/${g.id}`, { method: "PATCH", body: { rule: 'department eq "Legal"' } });
    expect(((await resaved.json()) as any).ruleStatus).toBe("applying");
    await vi.waitUntil(async () => ((await (await t.call(`/v1/groups/${g.id}`)).json()) as any).ruleStatus === "applied", { timeout: 10_000 });
    expect(await memberIds(g.id, t.id)).toEqual([u.id]);
    // Re-saving an applied rule changes nothing.
    const same = await t.call(`/v1/groups/${g.id}`, { method: "PATCH", body: { rule: 'department eq "Legal"' } });
    expect(((await same.json()) as any).ruleStatus).toBe("applied");
  });
});
