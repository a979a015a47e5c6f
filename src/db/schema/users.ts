/**
 * The user store: users and the reference data their rules read (custom attribute definitions,
 * roles, identity providers). One domain because the users core reads them in one batch.
 *
 * Part of the storage contract (./index.ts): tenant-owned keys lead with tenant_id; times are
 * integer milliseconds since the epoch.
 */
import { sql } from "drizzle-orm";
import { foreignKey, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { tenantIdColumn } from "./tenancy";

/**
 * lower() of the display name as rendered (stored, else "first last"). SCIM displayName filters
 * compile to exactly this expression so that SQLite can use the expression index below.
 */
export const effectiveDisplayNameLower = sql`lower(coalesce("users"."display_name", trim(coalesce("users"."first_name", '') || ' ' || coalesce("users"."last_name", ''))))`;

/**
 * Users. Personal columns are nullable only so that an erased user can keep its id as a tombstone;
 * the users core guarantees them for every live user.
 */
/**
 * lastActivityAt as filters and sorts compare it (0 for a user never seen), the expression
 * `users_tenant_last_activity_idx` covers: "inactive since X" is one index range.
 */
export const lastActivityKey = sql`coalesce("users"."last_activity_at", 0)`;

export const users = sqliteTable(
  "users",
  {
    tenantId: tenantIdColumn(),
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
    /**
     * Sign-in password, never the password itself: `pbkdf2-sha256$<iterations>$<salt>$<hash>`
     * (users/password.ts), so the parameters travel with the hash and can be raised later.
     */
    passwordHash: text("password_hash"),
    /** Set by `resetPassword: true`: the platform asks the user for a new password at sign-in. */
    passwordResetRequired: integer("password_reset_required", { mode: "boolean" }).notNull().default(false),
    /** The user must not be emailed (no activation or invitation email). */
    doNotEmail: integer("do_not_email", { mode: "boolean" }).notNull().default(false),
    /** Last activity on the platform (POST /v1/users/{id}/activity), written at most once a minute. */
    lastActivityAt: integer("last_activity_at"),
    /** Failed password checks in the current window (users/password-verify.ts), and when it began. */
    passwordFailures: integer("password_failures").notNull().default(0),
    passwordFailuresSince: integer("password_failures_since"),
    /** Password checks are refused until then (too many failures). */
    lockedUntil: integer("locked_until"),
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
    // lastActivityAt filters and sorts: a user never seen compares as 0 (inactive since forever),
    // so "inactive for 90 days" is one range on this index and keyset paging never meets a NULL.
    index("users_tenant_last_activity_idx").on(t.tenantId, sql`coalesce(${t.lastActivityAt}, 0)`),
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
    tenantId: tenantIdColumn(),
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

/** Tenant roles. A user holds at most one (users.role_id); names are unique and case-sensitive. */
export const roles = sqliteTable(
  "roles",
  {
    tenantId: tenantIdColumn(),
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
    tenantId: tenantIdColumn(),
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
 * Devices a user used to reach the platform (the seed's UserDevices). Keyed by user inside the
 * tenant, so a device id is only ever looked up under its tenant and user; at most 50 per user
 * (users/devices.ts).
 */
export const userDevices = sqliteTable(
  "user_devices",
  {
    tenantId: tenantIdColumn(),
    userId: text("user_id").notNull(),
    id: text("id").notNull(),
    platform: text("platform"),
    model: text("model"),
    name: text("name"),
    appVersion: text("app_version"),
    firstSeenAt: integer("first_seen_at").notNull(),
    lastSeenAt: integer("last_seen_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.userId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id], name: "user_devices_user_fk" }),
  ],
);
