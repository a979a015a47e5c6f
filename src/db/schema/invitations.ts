/**
 * Invitations: one row per invited user, with its lifecycle (pending, accepted, revoked; expired
 * by time).
 *
 * Part of the storage contract (./index.ts): tenant-owned keys lead with tenant_id; times are
 * integer milliseconds since the epoch.
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { tenantIdColumn } from "./tenancy";

/**
 * Invitations: a user created by a bulk invitation has status `invited` until the invitation is
 * accepted; `invitation.created` events carry what a mailer needs (this service sends no email).
 */
export const invitations = sqliteTable(
  "invitations",
  {
    tenantId: tenantIdColumn(),
    id: text("id").notNull(),
    userId: text("user_id").notNull(),
    email: text("email").notNull(),
    status: text("status", { enum: ["pending", "accepted", "revoked"] }).notNull(),
    sendEmail: integer("send_email", { mode: "boolean" }).notNull(),
    /** JSON array of organization ids requested with the invitation. */
    organizationIds: text("organization_ids").notNull().default("[]"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    sentCount: integer("sent_count").notNull().default(1),
    lastSentAt: integer("last_sent_at").notNull(),
    acceptedAt: integer("accepted_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index("invitations_tenant_user_idx").on(t.tenantId, t.userId),
    index("invitations_tenant_status_idx").on(t.tenantId, t.status, t.id),
  ],
);
