/**
 * Replaying an event whose side effects failed (or got stuck): the rule (a processed event has
 * nothing to replay) and the reset, shared by POST /v1/events/{id}/replay and the admin console.
 * The caller sends the returned reference to the queue; processing is idempotent.
 */
import { and, desc, eq, ne } from "drizzle-orm";
import type { CoreContext } from "../core/context";
import { events, userProvisioning } from "../db/schema";
import { ApiError } from "../http/errors";
import type { OutboxRef } from "./dispatch";

export type EventRow = typeof events.$inferSelect;

export async function findEvent(ctx: CoreContext, id: string): Promise<EventRow> {
  const row = await ctx.db.select().from(events).where(and(eq(events.tenantId, ctx.tenantId), eq(events.id, id))).get();
  if (!row) throw new ApiError("not_found", `No event with id '${id}' exists in this tenant.`);
  return row;
}

export async function resetEventForReplay(ctx: CoreContext, id: string): Promise<OutboxRef> {
  const row = await findEvent(ctx, id);
  if (row.status === "processed") {
    throw new ApiError("event_already_processed", `Event '${row.id}' was processed at ${new Date(row.processedAt ?? 0).toISOString()}; there is nothing to replay.`);
  }
  const db = ctx.db;
  await db.batch([
    db.update(events).set({ status: "pending", error: null }).where(and(eq(events.tenantId, row.tenantId), eq(events.id, row.id), ne(events.status, "processed"))),
    db
      .update(userProvisioning)
      .set({ status: "pending", errors: null, completedAt: null })
      .where(and(eq(userProvisioning.tenantId, row.tenantId), eq(userProvisioning.eventId, row.id), eq(userProvisioning.status, "failed"))),
  ]);
  return { id: row.id, tenantId: row.tenantId };
}

/** The newest events of one user (its history), newest first; served by events_tenant_subject_idx. */
export function userHistory(ctx: CoreContext, userId: string, limit = 50): Promise<EventRow[]> {
  return ctx.db.select().from(events).where(and(eq(events.tenantId, ctx.tenantId), eq(events.subjectId, userId))).orderBy(desc(events.seq)).limit(limit).all();
}
