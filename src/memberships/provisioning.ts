/**
 * Provisioning status: whether the side effects a user write asked for (memberships) have been
 * applied. Set `pending` in the same batch as the write; the consumer finishes it, but only for
 * the event that set it, so a late redelivery of an older event cannot overwrite a newer status.
 */
import { batchableRun } from "../db/client";
import { and, eq, sql } from "drizzle-orm";
import { userProvisioning } from "../db/schema";
import type { Db } from "../env";
import type { CoreContext } from "../core/context";

export interface ProvisioningItemError {
  kind: string;
  id: string;
  reason: string;
}

export interface Provisioning {
  status: "pending" | "completed" | "failed";
  eventId: string;
  requestedAt: string;
  completedAt: string | null;
  errors: ProvisioningItemError[];
}

/** Marks the user's provisioning pending for `eventId`. With `ifPreviousChanged`, only when the statement before it in the batch changed a row. */
export function markPending(db: Db, p: { tenantId: string; userId: string; eventId: string; now: number; ifPreviousChanged?: boolean }) {
  const guard = p.ifPreviousChanged ? sql`changes() = 1` : sql`1`;
  return batchableRun(db, sql`INSERT INTO ${userProvisioning} (tenant_id, user_id, event_id, status, errors, requested_at, completed_at)
    SELECT ${p.tenantId}, ${p.userId}, ${p.eventId}, 'pending', NULL, ${p.now}, NULL WHERE ${guard}
    ON CONFLICT (tenant_id, user_id) DO UPDATE SET event_id = excluded.event_id, status = 'pending', errors = NULL,
      requested_at = excluded.requested_at, completed_at = NULL`);
}

export function markFinished(db: Db, p: { tenantId: string; userId: string; eventId: string; now: number; errors: ProvisioningItemError[] }) {
  return db
    .update(userProvisioning)
    .set({ status: p.errors.length > 0 ? "failed" : "completed", errors: p.errors.length > 0 ? JSON.stringify(p.errors) : null, completedAt: p.now })
    .where(and(eq(userProvisioning.tenantId, p.tenantId), eq(userProvisioning.userId, p.userId), eq(userProvisioning.eventId, p.eventId)));
}

export function provisioningQuery(ctx: CoreContext, userId: string) {
  return ctx.db.select().from(userProvisioning).where(and(eq(userProvisioning.tenantId, ctx.tenantId), eq(userProvisioning.userId, userId)));
}

/**
 * What a write (PATCH, PUT, DELETE) answers: the status of the event it just committed (pending,
 * marked in the same batch; the consumer finishes it), or, when it committed none because nothing
 * changed, the standing status of the user's latest event. Never an older event's status when the
 * write made a new one.
 */
export function provisioningAfterWrite(committedEventIds: string[], standing: typeof userProvisioning.$inferSelect | undefined, now: number): Provisioning | null {
  const eventId = committedEventIds[committedEventIds.length - 1];
  if (eventId === undefined) return toProvisioning(standing);
  return { status: "pending", eventId, requestedAt: new Date(now).toISOString(), completedAt: null, errors: [] };
}

export function toProvisioning(row: typeof userProvisioning.$inferSelect | undefined): Provisioning | null {
  if (!row) return null;
  return {
    status: row.status,
    eventId: row.eventId,
    requestedAt: new Date(row.requestedAt).toISOString(),
    completedAt: row.completedAt === null ? null : new Date(row.completedAt).toISOString(),
    errors: row.errors ? (JSON.parse(row.errors) as ProvisioningItemError[]) : [],
  };
}

