/** GET /v1/events: ordered, cursor-paged, filterable, tenant-scoped; delta sync without gaps or repeats. */
import { describe, expect, it } from "vitest";
import { createTenant, createUser, problem, type TestTenant } from "./helpers";

interface FeedPage {
  data: Array<{ id: string; type: string; subjectId: string; occurredAt: string; data: Record<string, any> }>;
  pagination: { nextCursor: string; hasMore: boolean; limit: number };
}

async function page(t: TestTenant, query: string): Promise<FeedPage> {
  const res = await t.call(`/v1/events${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as FeedPage;
}

/** Reads the feed to its current end from `cursor`, in pages of `limit`. */
async function drain(t: TestTenant, cursor: string | null, limit: number, types?: string) {
  const seen: FeedPage["data"] = [];
  let after = cursor;
  for (let i = 0; i < 100; i++) {
    const params = new URLSearchParams({ limit: String(limit) });
    if (after) params.set("after", after);
    if (types) params.set("types", types);
    const p = await page(t, `?${params}`);
    seen.push(...p.data);
    after = p.pagination.nextCursor;
    if (!p.pagination.hasMore) break;
  }
  return { events: seen, cursor: after! };
}

describe("event feed", () => {
  it("pages through every change in order, then returns only what is new", async () => {
    const t = await createTenant();
    const a = await createUser(t, { department: "Ops" });
    const b = await createUser(t);
    const patched = await t.call(`/v1/users/${a.id}`, { method: "PATCH", body: { department: "Sales", title: "Lead" } });
    expect(patched.status).toBe(200);
    expect((await t.call(`/v1/users/${b.id}`, { method: "DELETE" })).status).toBe(200);
    for (let i = 0; i < 4; i++) await createUser(t);

    const first = await drain(t, null, 3, "user.created,user.updated,user.deactivated");
    expect(first.events.map((e) => e.type)).toEqual([
      "user.created",
      "user.created",
      "user.updated",
      "user.deactivated",
      "user.created",
      "user.created",
      "user.created",
      "user.created",
    ]);
    expect(new Set(first.events.map((e) => e.id)).size).toBe(first.events.length);
    const update = first.events[2]!;
    expect(update.subjectId).toBe(a.id);
    expect(update.data.changes).toEqual({ department: "Sales", title: "Lead" });
    expect(first.events[0]!.data.user.email).toBe(a.email);

    // Nothing new: an empty page that hands back a cursor to poll with.
    const idle = await page(t, `?after=${first.cursor}&types=user.created,user.updated,user.deactivated`);
    expect(idle.data).toEqual([]);
    expect(idle.pagination.hasMore).toBe(false);
    expect(idle.pagination.nextCursor).toBe(first.cursor);

    // Delta sync: only the changes since the saved cursor.
    const c = await createUser(t);
    await t.call(`/v1/users/${b.id}`, { method: "PATCH", body: { active: true } });
    const delta = await drain(t, first.cursor, 1, "user.created,user.updated,user.deactivated,user.reactivated");
    expect(delta.events.map((e) => [e.type, e.subjectId])).toEqual([
      ["user.created", c.id],
      ["user.reactivated", b.id],
    ]);
  });

  it("the unfiltered feed is the same sequence whatever the page size", async () => {
    const t = await createTenant();
    for (let i = 0; i < 5; i++) await createUser(t);
    const byOne = await drain(t, null, 1);
    const byAll = await drain(t, null, 1000);
    expect(byOne.events.map((e) => e.id)).toEqual(byAll.events.map((e) => e.id));
    expect(byAll.events.length).toBeGreaterThanOrEqual(5);
  });

  it("never shows another tenant's events", async () => {
    const t1 = await createTenant();
    const t2 = await createTenant();
    const u1 = await createUser(t1);
    await createUser(t2);
    const feed = await drain(t2, null, 100);
    expect(feed.events.some((e) => e.subjectId === u1.id)).toBe(false);
    const other = await t2.call(`/v1/events/${feed.events[0]!.id}`);
    expect(other.status).toBe(200);
    const t1Events = await drain(t1, null, 100);
    expect((await t2.call(`/v1/events/${t1Events.events[0]!.id}`)).status).toBe(404);
  });

  it("rejects unknown types and foreign cursors, naming the parameter", async () => {
    const t = await createTenant();
    const bad = await t.call("/v1/events?types=user.created,user.exploded");
    expect(bad.status).toBe(400);
    const body = await problem(bad);
    expect(body.errors[0].path).toBe("types");
    expect(body.detail).toContain("user.exploded");
    const cursor = await t.call("/v1/events?after=not-a-cursor!");
    expect(cursor.status).toBe(400);
    expect((await problem(cursor)).code).toBe("invalid_cursor");
    const limit = await t.call("/v1/events?limit=5000");
    expect(limit.status).toBe(400);
  });

  it("needs users:read", async () => {
    const t = await createTenant();
    const tokenRes = await t.call("/v1/api-tokens", { body: { name: "scim only", scopes: ["scim"] } });
    const token = ((await tokenRes.json()) as { token: string }).token;
    const res = await t.call("/v1/events", { token });
    expect(res.status).toBe(403);
  });
});
