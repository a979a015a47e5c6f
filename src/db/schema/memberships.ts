/**
 * Memberships: the collections (groups, campaigns, access groups, organizations), who is in them
 * over time, and each user's provisioning status (the asynchronous side effects of a write).
 *
 * Part of the storage contract (./index.ts): tenant-owned keys lead with tenant_id; times are
 * integer milliseconds since the epoch.
 */
import { sql } from "drizzle-orm";
import { foreignKey, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { tenantIdColumn } from "./tenancy";
import { users } from "./users";

/**
 * Groups, campaigns, access groups and organizations: one table, one mechanism. `rule` is an
 * optional audience rule in SCIM filter syntax; `ruleVersion` increments when it changes so that
 * background rule application can tell a stale page from a current one.
 */
export const collections = sqliteTable(
  "collections",
  {
    tenantId: tenantIdColumn(),
    id: text("id").notNull(),
    kind: text("kind", { enum: ["group", "campaign", "access_group", "organization", "folder"] }).notNull(),
    name: text("name").notNull(),
    externalId: text("external_id"),
    description: text("description"),
    rule: text("rule"),
    ruleVersion: integer("rule_version").notNull().default(0),
    /** Progress of applying the current rule version to existing users; null without a rule run. */
    ruleStatus: text("rule_status", { enum: ["applying", "applied", "failed"] }),
    ruleAppliedAt: integer("rule_applied_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /** Soft delete: memberships stay as history, the name becomes free again. */
    deletedAt: integer("deleted_at"),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex("collections_tenant_kind_name_uq").on(t.tenantId, t.kind, t.name).where(sql`deleted_at IS NULL`),
    uniqueIndex("collections_tenant_kind_external_id_uq").on(t.tenantId, t.kind, t.externalId).where(sql`deleted_at IS NULL`),
    index("collections_tenant_kind_idx").on(t.tenantId, t.kind, t.id),
  ],
);

/**
 * Membership of a user in a collection, with history: a row is current while `ended_at` is NULL,
 * and at most one current row exists per (collection, user). `source` says whether a caller asked
 * for it (`manual`) or an audience rule put the user there (`rule`); rules only end their own rows.
 */
export const memberships = sqliteTable(
  "memberships",
  {
    tenantId: tenantIdColumn(),
    id: text("id").notNull(),
    collectionId: text("collection_id").notNull(),
    userId: text("user_id").notNull(),
    source: text("source", { enum: ["manual", "rule"] }).notNull(),
    startedAt: integer("started_at").notNull(),
    endedAt: integer("ended_at"),
    endReason: text("end_reason"),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex("memberships_current_uq").on(t.tenantId, t.collectionId, t.userId).where(sql`ended_at IS NULL`),
    index("memberships_tenant_user_idx").on(t.tenantId, t.userId, t.endedAt),
    index("memberships_tenant_collection_idx").on(t.tenantId, t.collectionId, t.endedAt, t.userId),
    // Retention prunes ended history by age (src/shards/retention.ts).
    index("memberships_tenant_ended_idx").on(t.tenantId, t.endedAt),
    foreignKey({ columns: [t.tenantId, t.collectionId], foreignColumns: [collections.tenantId, collections.id], name: "memberships_collection_fk" }),
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id], name: "memberships_user_fk" }),
  ],
);

/**
 * Whether the side effects of a user's latest change have been applied. Written pending in the same
 * batch as the change; the consumer sets completed/failed, but only for the event it belongs to.
 */
export const userProvisioning = sqliteTable(
  "user_provisioning",
  {
    tenantId: tenantIdColumn(),
    userId: text("user_id").notNull(),
    eventId: text("event_id").notNull(),
    status: text("status", { enum: ["pending", "completed", "failed"] }).notNull(),
    /** JSON array of {kind, id, reason} for items that could not be applied. */
    errors: text("errors"),
    requestedAt: integer("requested_at").notNull(),
    completedAt: integer("completed_at"),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId] })],
);
