/**
 * The outbox and its consumer's receipts: an event is written in the same batch as its change and
 * delivered through the queue at least once; receipts make the consumer idempotent.
 *
 * Part of the storage contract (./index.ts): tenant-owned keys lead with tenant_id; times are
 * integer milliseconds since the epoch.
 */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { tenantIdColumn } from "./tenancy";

/**
 * The transactional outbox and the tenant's change feed in one table. A user change and its event
 * are written in the same D1 batch; `seq` orders the feed.
 */
export const events = sqliteTable(
  "events",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull().unique(),
    tenantId: tenantIdColumn(),
    type: text("type").notNull(),
    /** The user (or other resource) the event is about. */
    subjectId: text("subject_id"),
    /** JSON payload: the changed fields with their new values. */
    data: text("data").notNull(),
    createdAt: integer("created_at").notNull(),
    /** Outbox delivery: pending until the queue has accepted it (issue: side effects). */
    status: text("status", { enum: ["pending", "sent", "processed", "failed"] })
      .notNull()
      .default("pending"),
    sentAt: integer("sent_at"),
    /** Times the event was handed to the queue (first send, sweeps, replays). */
    attempts: integer("attempts").notNull().default(0),
    processedAt: integer("processed_at"),
    /** Why delivery failed (dead-lettered), for admins; cleared on replay. */
    error: text("error"),
    /** Who acted, JSON (src/audit/actor.ts); null only on events written before the audit trail. */
    actor: text("actor"),
  },
  (t) => [
    index("events_tenant_seq_idx").on(t.tenantId, t.seq),
    index("events_tenant_subject_idx").on(t.tenantId, t.subjectId),
    index("events_status_idx").on(t.status, t.seq),
  ],
);

/**
 * Ids of events whose effects were applied. Inserted in the same batch as the effects: a
 * redelivered event hits the primary key, the whole batch rolls back, and nothing is applied twice.
 */
export const eventReceipts = sqliteTable("event_receipts", {
  eventId: text("event_id").primaryKey(),
  tenantId: text("tenant_id").notNull(),
  processedAt: integer("processed_at").notNull(),
}, (t) => [index("event_receipts_tenant_processed_idx").on(t.tenantId, t.processedAt)]);
