/**
 * Tenancy: the tenants, the custom hostnames that route to them, and their API tokens (stored only
 * as hashes). Every other table's tenant_id references tenants.id.
 *
 * Part of the storage contract (./index.ts): tenant-owned keys lead with tenant_id; times are
 * integer milliseconds since the epoch.
 */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  suspended: integer("suspended", { mode: "boolean" }).notNull().default(false),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  /** Per-tenant rate-limit overrides (requests per second); null = the configured default. */
  rateLimitIpPerSecond: integer("rate_limit_ip_per_second"),
  rateLimitTenantPerSecond: integer("rate_limit_tenant_per_second"),
  /** The shard (by name, see src/shards/config.ts) holding the tenant's data; null = the default shard (DB). */
  shard: text("shard"),
  /** Days events (and receipts, idempotency records, ended memberships) are kept; null = 30. */
  eventRetentionDays: integer("event_retention_days"),
});

/** The tenant_id column every tenant-owned table leads its keys with, referencing tenants.id. */
export const tenantIdColumn = () =>
  text("tenant_id")
    .notNull()
    .references(() => tenants.id);

/** Custom hostnames (e.g. users.acme.com) that route to a tenant besides its subdomain. */
export const tenantDomains = sqliteTable(
  "tenant_domains",
  {
    hostname: text("hostname").primaryKey(),
    tenantId: tenantIdColumn(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("tenant_domains_tenant_idx").on(t.tenantId)],
);

export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    tenantId: tenantIdColumn(),
    name: text("name").notNull(),
    /** SHA-256 of the whole secret, hex. The secret itself is never stored. */
    tokenHash: text("token_hash").notNull().unique(),
    /** The first characters of the secret, shown in listings so an admin can tell tokens apart. */
    displayPrefix: text("display_prefix").notNull(),
    /** JSON array of scope names. */
    scopes: text("scopes").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    expiresAt: integer("expires_at"),
    disabledAt: integer("disabled_at"),
  },
  (t) => [index("api_tokens_tenant_idx").on(t.tenantId, t.id)],
);
