/**
 * Per-request protection state: stored first responses for Idempotency-Key retries, and the
 * registry of IPs blocked for fair-use violations (the limiter objects enforce; this lists them).
 *
 * Part of the storage contract (./index.ts): tenant-owned keys lead with tenant_id; times are
 * integer milliseconds since the epoch.
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { tenantIdColumn } from "./tenancy";

/** What a stored first response holds, in both idempotency tables (fresh builders per table). */
const storedResponseColumns = () => ({
  /** SHA-256 of method, path and the normalised request body. */
  requestHash: text("request_hash").notNull(),
  status: integer("status").notNull(),
  body: text("body").notNull(),
  location: text("location"),
  /** The response headers to replay (JSON object), minus X-Request-Id and rate-limit headers; null on older rows. */
  headers: text("headers"),
  createdAt: integer("created_at").notNull(),
});

/** Stored first responses for `Idempotency-Key` retries, kept for 24 hours. */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    tenantId: tenantIdColumn(),
    key: text("key").notNull(),
    ...storedResponseColumns(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.key] }),
    index("idempotency_keys_created_idx").on(t.createdAt),
  ],
);

/**
 * Stored first responses for `Idempotency-Key` retries of the platform API (apex host), which acts
 * for no tenant (tenant creation has none yet), so the key alone is the key. Same columns and
 * lifetime as idempotency_keys; secrets (a new tenant's first token, console links) are never stored.
 */
export const platformIdempotencyKeys = sqliteTable(
  "platform_idempotency_keys",
  {
    key: text("key").primaryKey(),
    ...storedResponseColumns(),
  },
  (t) => [index("platform_idempotency_keys_created_idx").on(t.createdAt)],
);

/**
 * The registry of automatic IP blocks, so that the platform API can list them. The per-IP rate
 * limiter (a Durable Object) is the source of truth for enforcement; it writes a row here when a
 * block starts. Platform-wide, so no tenant_id. Expired rows are filtered on read and purged by
 * the scheduled sweep.
 */
export const rateLimitBlocks = sqliteTable(
  "rate_limit_blocks",
  {
    ip: text("ip").primaryKey(),
    blockedAt: integer("blocked_at").notNull(),
    blockedUntil: integer("blocked_until").notNull(),
    /** Rejected requests counted in the detection window when the block started. */
    rejections: integer("rejections").notNull(),
  },
  (t) => [index("rate_limit_blocks_until_idx").on(t.blockedUntil)],
);
