/**
 * The transactional outbox. Statements built here go into the same D1 batch as the change they
 * describe, so a change without its event (or an event without its change) cannot be committed.
 */
import { batchableRun } from "../db/client";
import { sql, type SQL } from "drizzle-orm";
import { events, users } from "../db/schema";
import type { Db } from "../env";
import { uuidv7 } from "../lib/ids";
import { actorJsonOf } from "../audit/actor";

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
  | "collection.deleted"
  /** Feed-only: what a mailer needs to send (or re-send) an invitation. */
  | "invitation.created"
  | "invitation.resent"
  | "invitation.accepted"
  | "invitation.revoked"
  | AdminEventType;

/**
 * Admin changes (the audit trail) and webhook notices. Feed-only: written `processed`, no side
 * effects. Their data never holds a secret or erased personal data.
 */
export type AdminEventType = (typeof ADMIN_EVENT_TYPES)[number];
export const ADMIN_EVENT_TYPES = [
  "api_token.created",
  "api_token.updated",
  "api_token.disabled",
  "api_token.deleted",
  "attribute_definition.created",
  "attribute_definition.updated",
  "attribute_definition.deleted",
  "role.created",
  "role.updated",
  "role.deleted",
  "identity_provider.created",
  "identity_provider.updated",
  "identity_provider.deleted",
  "tenant.updated",
  "webhook_endpoint.created",
  "webhook_endpoint.updated",
  "webhook_endpoint.deleted",
  "webhook_endpoint.secret_rotated",
  /** The receiver answered 410, or every attempt failed for 5 days. */
  "webhook.disabled",
  /** Asked for with POST /v1/webhooks/{id}/test; delivered to that endpoint only. */
  "webhook.test",
] as const;

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
  "invitation.created",
  "invitation.resent",
  "invitation.accepted",
  "invitation.revoked",
  ...ADMIN_EVENT_TYPES,
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
    actor: actorJsonOf(db),
  });
}

/**
 * Inserts the event only if the statement just before it in the batch changed exactly one row.
 * Used after an optimistic `UPDATE ... WHERE version = ?`, so that a lost race writes no event.
 */
export function insertEventIfPreviousChangedOneRow(db: Db, event: NewEvent) {
  const status = event.status ?? "pending";
  const processedAt = status === "processed" ? event.createdAt : null;
  return batchableRun(db, sql`INSERT INTO ${events} (id, tenant_id, type, subject_id, data, created_at, status, processed_at, actor)
    SELECT ${event.id ?? uuidv7(event.createdAt)}, ${event.tenantId}, ${event.type}, ${event.subjectId},
           ${JSON.stringify(event.data)}, ${event.createdAt}, ${status}, ${processedAt}, ${actorJsonOf(db)}
    WHERE changes() = 1`);
}

/**
 * One event per user matching `where` (evaluated before the change it describes, in the same
 * batch), for bulk changes such as reassigning a deleted role. Ids are random UUIDs made in SQL,
 * since only the database knows the set of users.
 */
export function insertEventsForUsers(db: Db, event: Omit<NewEvent, "subjectId" | "id" | "status">, where: SQL) {
  return batchableRun(
    db,
    sql`INSERT INTO ${events} (id, tenant_id, type, subject_id, data, created_at, actor)
      SELECT lower(printf('%s-%s-4%s-%s%s-%s', hex(randomblob(4)), hex(randomblob(2)), substr(hex(randomblob(2)), 2),
                          substr('89ab', 1 + (abs(random()) % 4), 1), substr(hex(randomblob(2)), 2), hex(randomblob(6)))),
             ${event.tenantId}, ${event.type}, ${users.id}, ${JSON.stringify(event.data)}, ${event.createdAt}, ${actorJsonOf(db)}
      FROM ${users} WHERE ${users.tenantId} = ${event.tenantId} AND (${where})`,
  );
}
