/**
 * The storage contract. Every tenant-owned table leads its keys with `tenant_id`, so every lookup
 * and every keyset page is an index range inside one tenant. Times are integer milliseconds since
 * the epoch (UTC); the adapters render them as ISO 8601.
 *
 * drizzle-kit turns this file into SQL under drizzle/; read each generated file before committing.
 */
import { sql } from "drizzle-orm";
import {
  foreignKey,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

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
});

/** Custom hostnames (e.g. users.acme.com) that route to a tenant besides its subdomain. */
export const tenantDomains = sqliteTable(
  "tenant_domains",
  {
    hostname: text("hostname").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("tenant_domains_tenant_idx").on(t.tenantId)],
);

export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
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

/**
 * Users. Personal columns are nullable only so that an erased user can keep its id as a tombstone;
 * the users core guarantees them for every live user.
 */
/**
 * lower() of the display name as rendered (stored, else "first last"). SCIM displayName filters
 * compile to exactly this expression so that SQLite can use the expression index below.
 */
export const effectiveDisplayNameLower = sql`lower(coalesce("users"."display_name", trim(coalesce("users"."first_name", '') || ' ' || coalesce("users"."last_name", ''))))`;

export const users = sqliteTable(
  "users",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    /** UUIDv7: time-ordered, so ordering by id is ordering by creation. */
    id: text("id").notNull(),
    externalId: text("external_id"),
    email: text("email"),
    /** lower(email): uniqueness and lookups ignore case. */
    emailLower: text("email_lower"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    displayName: text("display_name"),
    phone: text("phone"),
    title: text("title"),
    department: text("department"),
    managerId: text("manager_id"),
    timezone: text("timezone"),
    locale: text("locale"),
    userType: text("user_type"),
    /** roles.id of the same tenant (checked by the users core). */
    roleId: text("role_id"),
    /** identity_providers.id of the same tenant (checked by the users core). */
    identityProviderId: text("identity_provider_id"),
    /** Sign-in name (SCIM userName) when it differs from the email; null means "the email". */
    userName: text("user_name"),
    /** lower(user_name ?? email), maintained by the users core: the effective userName, unique per tenant. */
    userNameLower: text("user_name_lower"),
    // Enterprise attributes (SCIM enterprise extension); department and managerId are above.
    employeeNumber: text("employee_number"),
    costCenter: text("cost_center"),
    organization: text("organization"),
    division: text("division"),
    active: integer("active", { mode: "boolean" }).notNull().default(true),
    /** `invited` from a bulk invitation until it is accepted; `active` otherwise. */
    status: text("status", { enum: ["active", "invited"] }).notNull().default("active"),
    /** While invited: when the pending invitation expires. */
    invitationExpiresAt: integer("invitation_expires_at"),
    /** JSON object of the tenant's custom attributes, keyed by attribute key. */
    attributes: text("attributes").notNull().default("{}"),
    version: integer("version").notNull().default(1),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    erasedAt: integer("erased_at"),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex("users_tenant_email_uq").on(t.tenantId, t.emailLower),
    uniqueIndex("users_tenant_external_id_uq").on(t.tenantId, t.externalId),
    index("users_tenant_active_idx").on(t.tenantId, t.active, t.id),
    index("users_tenant_updated_idx").on(t.tenantId, t.updatedAt, t.id),
    // Prefix search (`q`) compares lower(...) ranges, so these expression indexes serve it.
    index("users_tenant_first_name_idx").on(t.tenantId, sql`lower(${t.firstName})`),
    index("users_tenant_last_name_idx").on(t.tenantId, sql`lower(${t.lastName})`),
    index("users_tenant_display_name_idx").on(t.tenantId, sql`lower(${t.displayName})`),
    index("users_tenant_manager_idx").on(t.tenantId, t.managerId),
    index("users_tenant_role_idx").on(t.tenantId, t.roleId),
    index("users_tenant_identity_provider_idx").on(t.tenantId, t.identityProviderId),
    // SCIM lookups: userName eq (Okta, Entra) and displayName eq over the rendered display name.
    uniqueIndex("users_tenant_user_name_uq").on(t.tenantId, t.userNameLower),
    // Live users in creation order: SCIM's totalResults and startIndex paging walk only this index.
    index("users_tenant_live_idx").on(t.tenantId, t.id).where(sql`${t.erasedAt} IS NULL`),
    index("users_tenant_display_name_eff_idx").on(
      t.tenantId,
      sql`lower(coalesce(${t.displayName}, trim(coalesce(${t.firstName}, '') || ' ' || coalesce(${t.lastName}, ''))))`,
    ),
    // A manager is a user of the same tenant: the composite key makes that a database fact.
    foreignKey({
      columns: [t.tenantId, t.managerId],
      foreignColumns: [t.tenantId, t.id],
      name: "users_manager_fk",
    }),
  ],
);

/**
 * Per-tenant attribute settings. A row with `builtIn = true` only overrides the label or the
 * required flag of a built-in attribute; other rows define custom attributes.
 */
export const attributeDefinitions = sqliteTable(
  "attribute_definitions",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    key: text("key").notNull(),
    label: text("label").notNull(),
    type: text("type", {
      enum: ["string", "number", "boolean", "date", "email", "enum"],
    }).notNull(),
    /** JSON array of allowed values for `enum` attributes. */
    enumValues: text("enum_values"),
    description: text("description"),
    required: integer("required", { mode: "boolean" }).notNull().default(false),
    builtIn: integer("built_in", { mode: "boolean" }).notNull().default(false),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.key] })],
);

/** Stored first responses for `Idempotency-Key` retries, kept for 24 hours. */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    key: text("key").notNull(),
    /** SHA-256 of method, path and the normalised request body. */
    requestHash: text("request_hash").notNull(),
    status: integer("status").notNull(),
    body: text("body").notNull(),
    location: text("location"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.key] }),
    index("idempotency_keys_created_idx").on(t.createdAt),
  ],
);

/**
 * The transactional outbox and the tenant's change feed in one table. A user change and its event
 * are written in the same D1 batch; `seq` orders the feed.
 */
export const events = sqliteTable(
  "events",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull().unique(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
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

/** Tenant roles. A user holds at most one (users.role_id); names are unique and case-sensitive. */
export const roles = sqliteTable(
  "roles",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    id: text("id").notNull(),
    name: text("name").notNull(),
    /** Higher weight = more privileged; clients sort and compare roles by it. */
    weight: integer("weight").notNull().default(0),
    /** JSON array of permission strings. */
    permissions: text("permissions").notNull().default("[]"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), uniqueIndex("roles_tenant_name_uq").on(t.tenantId, t.name)],
);

/** Identity providers users can be bound to for sign-in (users.identity_provider_id). */
export const identityProviders = sqliteTable(
  "identity_providers",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    id: text("id").notNull(),
    name: text("name").notNull(),
    /** Short unique handle, e.g. "okta" in login hints. */
    prefix: text("prefix").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex("identity_providers_tenant_name_uq").on(t.tenantId, t.name),
    uniqueIndex("identity_providers_tenant_prefix_uq").on(t.tenantId, t.prefix),
  ],
);

/**
 * Groups, campaigns, access groups and organizations: one table, one mechanism. `rule` is an
 * optional audience rule in SCIM filter syntax; `ruleVersion` increments when it changes so that
 * background rule application can tell a stale page from a current one.
 */
export const collections = sqliteTable(
  "collections",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    id: text("id").notNull(),
    kind: text("kind", { enum: ["group", "campaign", "access_group", "organization"] }).notNull(),
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
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
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
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
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

/**
 * Ids of events whose effects were applied. Inserted in the same batch as the effects: a
 * redelivered event hits the primary key, the whole batch rolls back, and nothing is applied twice.
 */
export const eventReceipts = sqliteTable("event_receipts", {
  eventId: text("event_id").primaryKey(),
  tenantId: text("tenant_id").notNull(),
  processedAt: integer("processed_at").notNull(),
});

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

/**
 * Invitations: a user created by a bulk invitation has status `invited` until the invitation is
 * accepted; `invitation.created` events carry what a mailer needs (this service sends no email).
 */
export const invitations = sqliteTable(
  "invitations",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
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

export * from "../webhooks/tables";
