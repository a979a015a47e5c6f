/**
 * The transactional outbox. Statements built here go into the same D1 batch as the change they
 * describe, so a change without its event (or an event without its change) cannot be committed.
 */
import { events } from "../db/schema";
import type { Db } from "../env";
import { uuidv7 } from "../lib/ids";

export type EventType =
  | "user.created"
  | "user.updated"
  | "user.deactivated"
  | "user.reactivated"
  | "user.erased";

export interface NewEvent {
  tenantId: string;
  type: EventType;
  subjectId: string;
  data: Record<string, unknown>;
  createdAt: number;
}

export function insertEvent(db: Db, event: NewEvent) {
  return db.insert(events).values({
    id: uuidv7(event.createdAt),
    tenantId: event.tenantId,
    type: event.type,
    subjectId: event.subjectId,
    data: JSON.stringify(event.data),
    createdAt: event.createdAt,
  });
}

/**
 * Inserts the event only if the statement just before it in the batch changed exactly one row.
 * Used after an optimistic `UPDATE ... WHERE version = ?`, so that a lost race writes no event.
 */
export function insertEventIfPreviousChangedOneRow(db: Db, event: NewEvent): D1PreparedStatement {
  return db.$client
    .prepare(
      `INSERT INTO events (id, tenant_id, type, subject_id, data, created_at)
       SELECT ?, ?, ?, ?, ?, ? WHERE changes() = 1`,
    )
    .bind(uuidv7(event.createdAt), event.tenantId, event.type, event.subjectId, JSON.stringify(event.data), event.createdAt);
}

/**
 * One event per user matching `where` (raw SQL over the users table, evaluated before the change
 * it describes), for bulk changes such as reassigning a deleted role. Ids are random UUIDs made in
 * SQL, since the set of users is only known to the database.
 */
export function insertEventsForUsers(
  db: Db,
  event: Omit<NewEvent, "subjectId">,
  where: { sql: string; params: unknown[] },
): D1PreparedStatement {
  return db.$client
    .prepare(
      `INSERT INTO events (id, tenant_id, type, subject_id, data, created_at)
       SELECT lower(printf('%s-%s-4%s-%s%s-%s', hex(randomblob(4)), hex(randomblob(2)), substr(hex(randomblob(2)), 2),
                           substr('89ab', 1 + (abs(random()) % 4), 1), substr(hex(randomblob(2)), 2), hex(randomblob(6)))),
              ?, ?, id, ?, ?
       FROM users WHERE tenant_id = ? AND (${where.sql})`,
    )
    .bind(event.tenantId, event.type, JSON.stringify(event.data), event.createdAt, event.tenantId, ...where.params);
}
