/**
 * End to end through the real queues: a consumer that keeps failing exhausts max_retries, the
 * message lands in the dead-letter queue, the failure is visible over REST, and a replay after the
 * fault is gone applies every effect exactly once. The fault is real: the receipts table is
 * renamed away, so every processing batch fails inside D1 (this file has its own storage).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createTenant, createUser } from "./helpers";

describe("dead-letter queue, end to end", () => {
  it("retries, dead-letters, shows failed, and replays to exactly-once success", async () => {
    const t = await createTenant();
    const g = (await (await t.call("/v1/groups", { body: { name: "After the outage" } })).json()) as { id: string };
    await vi.waitUntil(async () => (await env.DB.prepare("SELECT count(*) AS n FROM events WHERE tenant_id = ? AND status != 'processed'").bind(t.id).first<{ n: number }>())?.n === 0, { timeout: 10_000 });

    await env.DB.prepare("ALTER TABLE event_receipts RENAME TO event_receipts_offline").run();
    let userId = "";
    try {
      const user = await createUser(t, { groups: [g.id] });
      userId = user.id;
      expect(user.provisioning).toEqual({ status: "pending" });
      const failed = await vi.waitUntil(
        async () => {
          const body = (await (await t.call(`/v1/users/${user.id}`)).json()) as any;
          return body.provisioning.status === "failed" ? body : false;
        },
        { timeout: 20_000, interval: 100 },
      );
      expect(failed.provisioning.errors[0].reason).toMatch(/replay/);
      expect(failed.memberships.groups).toEqual([]);
    } finally {
      await env.DB.prepare("ALTER TABLE event_receipts_offline RENAME TO event_receipts").run();
    }

    const failedEvents = (await (await t.call("/v1/events?status=failed")).json()) as any;
    expect(failedEvents.data).toHaveLength(1);
    const event = failedEvents.data[0];
    const detail = (await (await t.call(`/v1/events/${event.id}`)).json()) as any;
    expect(detail.delivery.status).toBe("failed");
    expect(detail.delivery.error).toMatch(/internal error while applying side effects/);
    expect(detail.delivery.error).not.toMatch(/event_receipts|SQLITE|INSERT/);

    expect((await t.call(`/v1/events/${event.id}/replay`, { method: "POST" })).status).toBe(202);
    const done = await vi.waitUntil(
      async () => {
        const body = (await (await t.call(`/v1/users/${userId}`)).json()) as any;
        return body.provisioning.status === "completed" ? body : false;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(done.memberships.groups.map((m: any) => m.id)).toEqual([g.id]);
    const added = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE tenant_id = ? AND subject_id = ? AND type = 'membership.added'").bind(t.id, userId).first<{ n: number }>();
    expect(added?.n).toBe(1);
  });
});
