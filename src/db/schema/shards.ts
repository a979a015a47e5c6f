/**
 * Tables of the sharding feature. One file for the feature's tables (like every domain here): `tenant_moves` is control plane (platform database only), while
 * `tenant_fences` and `feed_horizons` are tenant data and live in every shard.
 */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * One row per requested move (platform database). The runner (src/shards/move.ts) is a state
 * machine driven by queue messages; `progress` is its resumable position, so a crash or a retry
 * continues where the last step committed instead of starting over.
 */
export const tenantMoves = sqliteTable(
  "tenant_moves",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    fromShard: text("from_shard").notNull(),
    toShard: text("to_shard").notNull(),
    /** copying -> verifying -> cleanup -> done; or failed (the tenant stays whole on from_shard). */
    status: text("status", { enum: ["copying", "verifying", "cleanup", "done", "failed"] }).notNull(),
    /** JSON: { table, after, copied: {table: rows}, verified: {table: {rows, checksum}} }. */
    progress: text("progress").notNull().default("{}"),
    error: text("error"),
    startedAt: integer("started_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /** When writes were fenced for the final verification and when the directory was switched. */
    fencedAt: integer("fenced_at"),
    cutoverAt: integer("cutover_at"),
    finishedAt: integer("finished_at"),
  },
  (t) => [index("tenant_moves_tenant_idx").on(t.tenantId, t.startedAt), index("tenant_moves_status_idx").on(t.status)],
);

/**
 * A tenant whose writes this shard must refuse (every shard). The request gate puts a guard on
 * each write batch that fails while a fence exists, so a move's cut-over costs no extra round trip
 * and holds for every isolate at once, whatever its cached host -> shard answer says.
 */
export const tenantFences = sqliteTable("tenant_fences", {
  tenantId: text("tenant_id").primaryKey(),
  reason: text("reason").notNull(),
  createdAt: integer("created_at").notNull(),
});

/**
 * How far a tenant's event feed has been pruned (every shard): a feed cursor below
 * `pruned_through_seq` would skip deleted events, so it is answered 410 cursor_expired.
 */
export const feedHorizons = sqliteTable("feed_horizons", {
  tenantId: text("tenant_id").primaryKey(),
  prunedThroughSeq: integer("pruned_through_seq").notNull(),
  prunedAt: integer("pruned_at").notNull(),
});
