/**
 * The transactional outbox. Statements built here go into the same D1 batch as the change they
 * describe, so a change without its event (or an event without its change) cannot be committed.
 */
import { batchableRun } from "../db/client";
import { sql } from "drizzle-orm";
import { events } from "../db/schema";
import type { Db } from "../env";
import { uuidv7 } from "../lib/ids";

export type EventType =
  | "user.created"
  | "user.updated"
  | "user.deactivated"
  | "user.reactivated"
  | "user.erased"
  /** A PATCH that only asked for memberships: the user row did not change. */
  | "user.memberships_requested"
  | "membership.added"
  | "membership.removed"
  | "collection.created"
  | "collection.updated"
  | "collection.deleted";

export const EVENT_TYPES: readonly EventType[] = [
  "user.created",
  "user.updated",
  "user.deactivated",
  "user.reactivated",
  "user.erased",
  "user.memberships_requested",
  "membership.added",
  "membership.removed",
  "collection.created",
  "collection.updated",
  "collection.deleted",
];

export interface NewEvent {
  /** Pre-allocated id, when the caller needs it in the same batch (e.g. provisioning status). */
  id?: string;
  tenantId: string;
  type: EventType;
  subjectId: string;
  data: Record<string, unknown>;
  createdAt: number;
  /**
   * `processed` for feed-only events that have no side effects (membership.*): they never need the
   * queue. Everything else starts `pending` and is delivered through the queue.
   */
  status?: "pending" | "processed";
}

export function insertEvent(db: Db, event: NewEvent) {
  return db.insert(events).values({
    id: event.id ?? uuidv7(event.createdAt),
    tenantId: event.tenantId,
    type: event.type,
    subjectId: event.subjectId,
    data: JSON.stringify(event.data),
    createdAt: event.createdAt,
    status: event.status ?? "pending",
    processedAt: event.status === "processed" ? event.createdAt : null,
  });
}

/**
 * Inserts the event only if the statement just before it in the batch changed exactly one row.
 * Used after an optimistic `UPDATE ... WHERE version = ?`, so that a lost race writes no event.
 */
export function insertEventIfPreviousChangedOneRow(db: Db, event: NewEvent) {
  const status = event.status ?? "pending";
  const processedAt = status === "processed" ? event.createdAt : null;
  return batchableRun(db, sql`INSERT INTO ${events} (id, tenant_id, type, subject_id, data, created_at, status, processed_at)
    SELECT ${event.id ?? uuidv7(event.createdAt)}, ${event.tenantId}, ${event.type}, ${event.subjectId},
           ${JSON.stringify(event.data)}, ${event.createdAt}, ${status}, ${processedAt}
    WHERE changes() = 1`);
}
