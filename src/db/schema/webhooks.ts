/**
 * Storage for webhooks (src/webhooks/).
 *
 * - An endpoint keeps a cursor (`cursor_seq`) into the tenant's feed: fan-out reads the feed after
 *   the smallest cursor, so every event an endpoint subscribes to is delivered, however it was
 *   written (REST, SCIM, SQL-built membership events, the consumer), and an endpoint never gets
 *   events from before it existed (or from while it was disabled).
 * - A delivery is one (endpoint, event) pair with a deterministic id, which is the Standard Webhooks
 *   `webhook-id`: the same on every retry and redelivery, and a repeated fan-out cannot double it.
 *   Its body is built from the event row at send time, so it is never stored: erasing a user
 *   (which empties the user's events) leaves no personal data behind in deliveries.
 */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    tenantId: text("tenant_id").notNull(),
    id: text("id").notNull(),
    url: text("url").notNull(),
    description: text("description"),
    /** JSON array of event types or `prefix.*` / `*` patterns. */
    events: text("events").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    /** `manual` (PATCH), `gone` (the receiver answered 410), `failing` (5 days of failures). */
    disabledReason: text("disabled_reason", { enum: ["manual", "gone", "failing"] }),
    disabledAt: integer("disabled_at"),
    /** The signing secret, AES-GCM encrypted with WEBHOOK_SECRET_KEY (webhooks/secrets.ts). */
    secret: text("secret").notNull(),
    /** After a rotation the old secret keeps signing until `previous_secret_expires_at`. */
    previousSecret: text("previous_secret"),
    previousSecretExpiresAt: integer("previous_secret_expires_at"),
    /** Feed position: events with a higher seq have not been fanned out to this endpoint yet. */
    cursorSeq: integer("cursor_seq").notNull().default(0),
    /** Start of the current run of failed attempts; null after a success. */
    failingSince: integer("failing_since"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index("webhook_endpoints_enabled_idx").on(t.enabled, t.tenantId)],
);

export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    tenantId: text("tenant_id").notNull(),
    /** `msg_...`, sent as `webhook-id`. */
    id: text("id").notNull(),
    endpointId: text("endpoint_id").notNull(),
    eventId: text("event_id").notNull(),
    eventSeq: integer("event_seq").notNull(),
    eventType: text("event_type").notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed"] }).notNull().default("pending"),
    /** Every attempt ever made (shown); `retries` is the position in the schedule, reset by a redelivery. */
    attempts: integer("attempts").notNull().default(0),
    retries: integer("retries").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at"),
    lastAttemptAt: integer("last_attempt_at"),
    lastStatus: integer("last_status"),
    lastDurationMs: integer("last_duration_ms"),
    /** A safe summary (`HTTP 500`, `timeout`, ...); never the response body. */
    lastError: text("last_error"),
    deliveredAt: integer("delivered_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex("webhook_deliveries_endpoint_seq_uq").on(t.tenantId, t.endpointId, t.eventSeq),
    index("webhook_deliveries_due_idx").on(t.status, t.nextAttemptAt),
  ],
);
