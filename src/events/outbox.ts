/**
 * The transactional outbox. Statements built here go into the same D1 batch as the change they
 * describe, so a change without its event (or an event without its change) cannot be committed.
 */
import { sql, type SQL } from "drizzle-orm";
import { batchableRun } from "../db/client";
import { events, users } from "../db/schema";
import type { Db } from "../env";
import { uuidv7 } from "../lib/ids";
import { actorJsonOf } from "../audit/actor";
import type { EventPayloads, EventType } from "./catalogue";

/** Writers name their event type from the catalogue; re-exported for them. */
export type { EventType } from "./catalogue";

/** An outbox row to write; `data` is checked against the catalogue's payload for `type`. */
export interface NewEvent<T extends EventType = EventType> {
  /** Pre-allocated id, when the caller needs it in the same batch (e.g. provisioning status). */
  id?: string;
  tenantId: string;
  type: T;
  subjectId: string;
  data: EventPayloads[T];
  createdAt: number;
  /**
   * `processed` for feed-only events that have no side effects (membership.*): they never need the
   * queue. Everything else starts `pending` and is delivered through the queue.
   */
  status?: "pending" | "processed";
}

export function insertEvent<T extends EventType>(db: Db, event: NewEvent<T>) {
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
export function insertEventIfPreviousChangedOneRow<T extends EventType>(db: Db, event: NewEvent<T>) {
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
export function insertEventsForUsers<T extends EventType>(db: Db, event: Omit<NewEvent<T>, "subjectId" | "id" | "status">, where: SQL) {
  return batchableRun(
    db,
    sql`INSERT INTO ${events} (id, tenant_id, type, subject_id, data, created_at, actor)
      SELECT lower(printf('%s-%s-4%s-%s%s-%s', hex(randomblob(4)), hex(randomblob(2)), substr(hex(randomblob(2)), 2),
                          substr('89ab', 1 + (abs(random()) % 4), 1), substr(hex(randomblob(2)), 2), hex(randomblob(6)))),
             ${event.tenantId}, ${event.type}, ${users.id}, ${JSON.stringify(event.data)}, ${event.createdAt}, ${actorJsonOf(db)}
      FROM ${users} WHERE ${users.tenantId} = ${event.tenantId} AND (${where})`,
  );
}
