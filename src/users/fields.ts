/**
 * The user's built-in fields, specified once.
 *
 * Adding a field is one entry in USER_FIELDS plus a migration. How:
 *   1. add the column to `users` in src/db/schema/users.ts and run `npm run db:generate` (it writes
 *      drizzle/NNNN_*.sql; read it before committing);
 *   2. add an entry below, keyed by the REST name, with `column` set to the drizzle column key.
 * Everything else is derived from this table: the core's `UserFields`/`User` types,
 * SETTABLE_FIELDS, MAX_FIELD_LENGTH, valuesOf/toUser (users/model.ts), the REST request and
 * response schemas and so the OpenAPI document (rest/users/users.schemas.ts), the SCIM mapping both ways
 * and /Schemas (scim/users.ts, scim/schema.ts), the REST and SCIM filter attributes
 * (filter/user-fields.ts), the sort fields (users/queries.ts) and the built-in attributes of
 * `GET /v1/available-attributes` (users/attributes.ts), where a tenant can make it required.
 * A field with a format of its own (like email, timezone, locale) also needs its check in
 * checkBuiltIns (users/service.ts).
 */
import type { users } from "../db/schema";

type Column = keyof typeof users.$inferSelect;

export interface FieldSpec {
  /** The drizzle column key in `users`. The users core spreads values into rows by REST name, so it equals the REST name for now. */
  column: Column;
  /**
   * SCIM path of the field: a core attribute (`title`, `name.givenName`,
   * `emails[type eq "work"].value`), an enterprise-extension one (`urn:...:enterprise:2.0:User:employeeNumber`),
   * or null when SCIM does not carry it (set over /v1 only).
   */
  scim: string | null;
  /** Attribute type as listed by /v1/available-attributes. */
  type: "string" | "email";
  maxLength: number;
  /** Every user must have it: required in UserCreate, and the tenant cannot turn it off. */
  alwaysRequired: boolean;
  /** A tenant may make it required (PATCH /v1/available-attributes/{key}). Every built-in is. */
  requirable: true;
  /** Usable in REST `filter=` and SCIM filters (and rules). */
  filter: boolean;
  /** Usable in REST `sort=`. Only always-required fields: keyset cursors need a value on every user. */
  sort: boolean;
  /** How the XML rendering carries it: `text` (a string, no type attribute). */
  xml: "text";
  label: string;
  description: string;
  example?: string;
  /** What a response shows when the column is null: null (the field is nullable), "" , or a derived default. */
  whenUnset: null | "" | "firstAndLastName" | "email";
  /**
   * May hold tab and line breaks. Every built-in is one line; all text also obeys the text rule
   * (lib/text.ts: valid Unicode, no other control characters, nothing XML 1.0 forbids), checked in
   * users/validate.ts for built-ins and users/attributes.ts for custom attributes.
   */
  multiline?: boolean;
  /** Compared exactly in filters (ids); otherwise case-insensitively. */
  caseExact?: boolean;
  /** The id of another entity of the tenant; such ids are not ordered in filters. */
  references?: "user" | "role" | "identityProvider";
  /** REST also accepts and returns the referenced entity by name under this key (`role`). */
  byName?: { key: "role"; maxLength: number; description: string; example: string };
  /** Unique per tenant (ignoring case unless caseExact). */
  unique?: boolean;
  /** A lower-cased form an index covers, used for case-insensitive filters and sorting. */
  indexedLower?: "emailLower" | "userNameLower" | "effectiveDisplayNameLower";
  /**
   * Built in after tenants could already define custom attributes of this name: a custom attribute
   * may still share it (it lives in `attributes.<key>`, distinct from this field).
   */
  customMayShareName?: boolean;
}

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

const text = { type: "string", requirable: true, filter: true, sort: false, xml: "text", alwaysRequired: false, whenUnset: null } as const;

/** In the order of the REST representation (and so of its XML elements). */
export const USER_FIELDS = {
  externalId: { ...text, column: "externalId", scim: "externalId", maxLength: 255, alwaysRequired: true, sort: true, whenUnset: "", caseExact: true, unique: true, label: "External ID", description: "The id in the source system; unique per tenant.", example: "HR-10042" },
  email: { ...text, column: "email", scim: 'emails[type eq "work"].value', type: "email", maxLength: 254, alwaysRequired: true, sort: true, whenUnset: "", unique: true, indexedLower: "emailLower", label: "Email", description: "Email address; unique per tenant, ignoring case.", example: "jane.doe@acme.com" },
  firstName: { ...text, column: "firstName", scim: "name.givenName", maxLength: 255, alwaysRequired: true, sort: true, whenUnset: "", label: "First name", description: "Given name.", example: "Jane" },
  lastName: { ...text, column: "lastName", scim: "name.familyName", maxLength: 255, alwaysRequired: true, sort: true, whenUnset: "", label: "Last name", description: "Family name.", example: "Doe" },
  displayName: { ...text, column: "displayName", scim: "displayName", maxLength: 255, whenUnset: "firstAndLastName", indexedLower: "effectiveDisplayNameLower", label: "Display name", description: "Name for display; derived from first and last name when absent.", example: "Jane Doe" },
  phone: { ...text, column: "phone", scim: 'phoneNumbers[type eq "work"].value', maxLength: 64, label: "Phone", description: "Phone number; one per user.", example: "+45 12 34 56 78" },
  title: { ...text, column: "title", scim: "title", maxLength: 255, label: "Job title", description: "Job title.", example: "Compliance Officer" },
  department: { ...text, column: "department", scim: `${ENTERPRISE}:department`, maxLength: 255, label: "Department", description: "Department.", example: "Legal" },
  managerId: { ...text, column: "managerId", scim: `${ENTERPRISE}:manager.value`, maxLength: 36, caseExact: true, references: "user", label: "Manager", description: "Id of another user of the same tenant." },
  timezone: { ...text, column: "timezone", scim: "timezone", maxLength: 64, label: "Time zone", description: "IANA time zone, e.g. Europe/Copenhagen.", example: "Europe/Copenhagen" },
  locale: { ...text, column: "locale", scim: "locale", maxLength: 35, label: "Locale", description: "BCP 47 language tag, e.g. en-GB.", example: "da-DK" },
  userType: { ...text, column: "userType", scim: "userType", maxLength: 64, label: "User type", description: "Free text, e.g. Employee or Contractor.", example: "Employee" },
  roleId: {
    ...text, column: "roleId", scim: null, maxLength: 64, caseExact: true, references: "role", label: "Role",
    description: "Id of one of the tenant's roles (GET /v1/roles); REST also takes the exact role name as `role`.",
    byName: { key: "role", maxLength: 100, description: "A role's exact name (case-sensitive); alternative to roleId. Responses carry the name of the user's role.", example: "Standard User" },
  },
  identityProviderId: { ...text, column: "identityProviderId", scim: null, maxLength: 64, caseExact: true, references: "identityProvider", label: "Identity provider", description: "Id of an enabled identity provider of the tenant (GET /v1/identity-providers)." },
  userName: {
    ...text, column: "userName", scim: "userName", maxLength: 255, whenUnset: "email", unique: true, indexedLower: "userNameLower", customMayShareName: true, label: "User name",
    description: "Sign-in name (SCIM userName), unique per tenant ignoring case; the email when not set. When a tenant requires it, every user needs an explicit one (it may equal the email).",
  },
  employeeNumber: { ...text, column: "employeeNumber", scim: `${ENTERPRISE}:employeeNumber`, maxLength: 64, customMayShareName: true, label: "Employee number", description: "Employee number." },
  costCenter: { ...text, column: "costCenter", scim: `${ENTERPRISE}:costCenter`, maxLength: 255, customMayShareName: true, label: "Cost center", description: "Cost center." },
  organization: { ...text, column: "organization", scim: `${ENTERPRISE}:organization`, maxLength: 255, customMayShareName: true, label: "Organization", description: "Organization." },
  division: { ...text, column: "division", scim: `${ENTERPRISE}:division`, maxLength: 255, customMayShareName: true, label: "Division", description: "Division." },
} as const satisfies Record<string, FieldSpec>;

export type FieldName = keyof typeof USER_FIELDS;
export type Field = (typeof USER_FIELDS)[FieldName];

// The core (service.ts) spreads field values into rows by name, so a column must be named like its field.
type ColumnsMatchNames = { [K in FieldName]: (typeof USER_FIELDS)[K]["column"] extends K ? true : K }[FieldName];
const columnsMatchNames: ColumnsMatchNames = true;
void columnsMatchNames;

/** Every field name, in table order. */
export const FIELD_NAMES = Object.keys(USER_FIELDS) as FieldName[];

/** [name, spec] pairs in table order, typed as the general FieldSpec for generic code. */
export const FIELD_ENTRIES = Object.entries(USER_FIELDS) as [FieldName, FieldSpec][];

/** Fields that are never null in a response. */
export type NonNullField = { [K in FieldName]: (typeof USER_FIELDS)[K]["whenUnset"] extends null ? never : K }[FieldName];

/** Sortable fields, in table order. */
export type SortableField = { [K in FieldName]: (typeof USER_FIELDS)[K]["sort"] extends true ? K : never }[FieldName];
export const SORTABLE_FIELDS = FIELD_NAMES.filter((f) => USER_FIELDS[f].sort) as SortableField[];

/** Built-ins a custom attribute may share a name with (see FieldSpec.customMayShareName). */
export const YIELDING_BUILT_INS = FIELD_ENTRIES.filter(([, f]) => f.customMayShareName).map(([name]) => name);

export function fieldSpec(name: FieldName): FieldSpec {
  return USER_FIELDS[name];
}

export function isFieldName(name: string): name is FieldName {
  return Object.hasOwn(USER_FIELDS, name);
}

/**
 * Account fields: not free-text attributes, so they are not in USER_FIELDS (whose values are
 * strings the tenant may require, filter and map to SCIM as text). Each is one entry here plus its
 * column; the REST schemas (rest/user-schemas.ts), the response (users/model.ts), SCIM and the
 * README's field table are derived from it, and its rule lives in the module named in `rule`.
 * - `writeOnly`: accepted on create/PATCH/PUT, never returned, never in an event or a log.
 * - `readOnly`: returned, never accepted (the service sets it).
 */
export interface AccountFieldSpec {
  type: "password" | "boolean" | "dateTime";
  access: "writeOnly" | "readOnly" | "readWrite";
  label: string;
  description: string;
  /** Where the rule that sets it lives. */
  rule: string;
  /** Accepted by bulk invitations too. */
  onInvitation: boolean;
  /** REST `filter=` and `sort=` (dateTime only). */
  filterAndSort?: boolean;
}

export const ACCOUNT_FIELDS = {
  password: { type: "password", access: "writeOnly", onInvitation: true, label: "Password", rule: "users/password.ts", description: "Sign-in password, 12 to 256 characters and not the email. Stored only as a PBKDF2-SHA256 hash; never returned. Check it with POST /v1/users/{id}/password/verify." },
  resetPassword: { type: "boolean", access: "writeOnly", onInvitation: true, label: "Reset password", rule: "users/validate.ts", description: "true: the user must choose a new password at next sign-in (sets passwordResetRequired); false clears that." },
  passwordResetRequired: { type: "boolean", access: "readOnly", onInvitation: false, label: "Password reset required", rule: "users/validate.ts", description: "Set by resetPassword; cleared by resetPassword: false." },
  hasPassword: { type: "boolean", access: "readOnly", onInvitation: false, label: "Has password", rule: "users/validate.ts", description: "Whether a password is set (the password itself is never returned)." },
  doNotEmail: { type: "boolean", access: "readWrite", onInvitation: true, label: "Do not email", rule: "users/validate.ts", description: "Send this user no email (no activation or invitation email): invitation events carry sendEmail: false." },
  lastActivityAt: { type: "dateTime", access: "readOnly", onInvitation: false, filterAndSort: true, label: "Last activity", rule: "users/activity.ts", description: "Last activity on the platform, recorded by POST /v1/users/{id}/activity at most once a minute. A write that lands increments `version` (no event). Filter and sort with `lastActivityAt`; a user never seen compares as 1970-01-01." },
  lockedUntil: { type: "dateTime", access: "readOnly", onInvitation: false, label: "Locked until", rule: "users/password-verify.ts", description: "Password checks are refused (423) until then, after 5 failures within 15 minutes. Null when never locked and once the lock has expired." },
} as const satisfies Record<string, AccountFieldSpec>;

export type AccountFieldName = keyof typeof ACCOUNT_FIELDS;

/**
 * Members of the user's REST representation that the service alone sets: no request names them
 * as a change. With the read-only ACCOUNT_FIELDS they make READ_ONLY_FIELDS, which a full replace
 * (`PUT /v1/users/{id}`) accepts and ignores so that a client can GET a user, edit it and PUT it
 * back; `id` is the exception that is checked (it must name the user in the path).
 */
export const SERVER_FIELDS = {
  id: "The user's id; in a PUT body it must equal the id in the path.",
  status: "Derived from `active` and the invitation lifecycle.",
  version: "Increments on every change.",
  createdAt: "Set on create.",
  updatedAt: "Set on every change a client makes.",
  provisioning: "State of the asynchronous side effects of the latest change.",
  memberships: "Current memberships (GET /v1/users/{id}); change them with the id lists (groups, folders, ...).",
} as const;

type ReadOnlyAccountField = { [K in AccountFieldName]: (typeof ACCOUNT_FIELDS)[K]["access"] extends "readOnly" ? K : never }[AccountFieldName];
export type ReadOnlyField = keyof typeof SERVER_FIELDS | ReadOnlyAccountField;

/** Every read-only member of the REST user: SERVER_FIELDS, then the read-only account fields. */
export const READ_ONLY_FIELDS = [
  ...Object.keys(SERVER_FIELDS),
  ...(Object.entries(ACCOUNT_FIELDS) as [AccountFieldName, AccountFieldSpec][]).filter(([, f]) => f.access === "readOnly").map(([name]) => name),
] as ReadOnlyField[];
