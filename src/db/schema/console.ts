/**
 * The admin console's storage (src/console/): one-time sign-in links and browser sessions. Only
 * SHA-256 hashes of their secrets are stored, as for API tokens, so a database leak signs no one in.
 */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { tenants } from "./tenancy";

/** One-time sign-in links issued by the platform operator (POST /platform/tenants/{slug}/console-links). */
export const consoleLinks = sqliteTable(
  "console_links",
  {
    /** SHA-256 of the link's secret, hex. */
    secretHash: text("secret_hash").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    /** Set when the link is exchanged for a session; a used link never works again. */
    usedAt: integer("used_at"),
  },
  (t) => [index("console_links_expires_idx").on(t.expiresAt)],
);

/**
 * Console sessions. A session signed in with an API token is bound to it (`token_id`) and ends when
 * the token is disabled, expires or loses the admin scope. A session signed in by link has no token:
 * it is owned by the platform operator who issued the link and ends on sign-out, after its lifetime,
 * or when the operator revokes the tenant's sessions (DELETE /platform/tenants/{slug}/console-sessions).
 */
export const consoleSessions = sqliteTable(
  "console_sessions",
  {
    /** SHA-256 of the cookie's secret, hex. */
    idHash: text("id_hash").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    method: text("method", { enum: ["link", "token"] }).notNull(),
    /** api_tokens.id of the token the admin signed in with; null for a link sign-in. */
    tokenId: text("token_id"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("console_sessions_tenant_idx").on(t.tenantId), index("console_sessions_token_idx").on(t.tokenId)],
);
