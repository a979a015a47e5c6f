/**
 * PATCH, PUT and DELETE on a user answer the provisioning status of the event they just wrote
 * (pending, with that event's id; the consumer then finishes it), never the status of an older
 * event such as the user's creation. A write that changes nothing writes no event and answers the
 * standing status.
 */
import { describe, expect, it, vi } from "vitest";
import { createTenant, createUser, newUser, type TestTenant } from "./helpers";

async function settled(t: TestTenant, userId: string, eventId?: string) {
  return vi.waitUntil(
    async () => {
      const body = (await (await t.call(`/v1/users/${userId}`)).json()) as Record<string, any>;
      const p = body.provisioning;
      return p?.status === "completed" && (eventId === undefined || p.eventId === eventId) ? body : false;
    },
    { timeout: 10_000, interval: 50 },
  );
}

/** The id of the user's latest event of `type` in the feed. */
async function latestEvent(t: TestTenant, userId: string, type: string): Promise<string> {
  const res = await t.call(`/v1/events?types=${type}&limit=1000`);
  const events = ((await res.json()) as { data: { id: string; subjectId: string }[] }).data.filter((e) => e.subjectId === userId);
  return events[events.length - 1]!.id;
}

describe("a write answers its own event's provisioning status", () => {
  let t: TestTenant;
  let user: Record<string, any>;
  let creationEventId: string;

  it("the creation's status completes first", async () => {
    t = await createTenant();
    user = await createUser(t);
    const done = await settled(t, user.id);
    creationEventId = done.provisioning.eventId;
    expect(creationEventId).toBe(await latestEvent(t, user.id, "user.created"));
  });

  it("PATCH: pending, for the user.updated event it wrote; then that event completes", async () => {
    const res = await t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { title: "Engineer" } });
    expect(res.status).toBe(200);
    const p = ((await res.json()) as Record<string, any>).provisioning;
    const eventId = await latestEvent(t, user.id, "user.updated");
    expect(p).toMatchObject({ status: "pending", eventId, completedAt: null, errors: [] });
    expect(p.eventId).not.toBe(creationEventId);
    await settled(t, user.id, eventId);
  });

  it("PATCH that changes nothing writes no event and answers the standing status", async () => {
    const before = await settled(t, user.id);
    const res = await t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { title: "Engineer" } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Record<string, any>).provisioning).toEqual(before.provisioning);
  });

  it("PUT: pending, for its own event", async () => {
    const res = await t.call(`/v1/users/${user.id}`, { method: "PUT", body: { ...newUser(), email: user.email, externalId: user.externalId, title: "Lead" } });
    expect(res.status).toBe(200);
    const p = ((await res.json()) as Record<string, any>).provisioning;
    expect(p).toMatchObject({ status: "pending", eventId: await latestEvent(t, user.id, "user.updated") });
    await settled(t, user.id, p.eventId);
  });

  it("DELETE (deactivate): pending, for the user.deactivated event; deactivating again answers the standing status", async () => {
    const res = await t.call(`/v1/users/${user.id}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body.active).toBe(false);
    const eventId = await latestEvent(t, user.id, "user.deactivated");
    expect(body.provisioning).toMatchObject({ status: "pending", eventId });
    const done = await settled(t, user.id, eventId);
    const again = await t.call(`/v1/users/${user.id}`, { method: "DELETE" });
    expect(again.status).toBe(200);
    expect(((await again.json()) as Record<string, any>).provisioning).toEqual(done.provisioning);
  });
});
