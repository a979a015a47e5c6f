/** The user as the core sees it, and its public (REST) representation. */
import type { users } from "../db/schema";
import type { RoleDirectory } from "./references";
import { FIELD_ENTRIES, FIELD_NAMES, type FieldName, type FieldSpec, type NonNullField } from "./fields";

export type UserRow = typeof users.$inferSelect;

/** Built-in fields a caller may set (every field of users/fields.ts). `undefined` leaves a field alone; `null` clears it. */
export type UserFields = { [K in FieldName]?: string | null } & {
  /** Role by exact name; resolved to `roleId` by the core. */
  role?: string | null;
  active?: boolean;
  /** Merge-patch of custom attributes: a null value removes that key. */
  attributes?: Record<string, unknown> | null;
  /** Write-only (users/fields.ts ACCOUNT_FIELDS): hashed by the core, never stored or returned as sent; null removes it. */
  password?: string | null;
  /** true sets passwordResetRequired, false clears it. */
  resetPassword?: boolean;
  doNotEmail?: boolean;
};

export const SETTABLE_FIELDS = FIELD_NAMES;

export type SettableField = FieldName;

/** Longest value each field takes, from the field table. */
export const MAX_FIELD_LENGTH = Object.fromEntries(FIELD_ENTRIES.map(([name, f]) => [name, f.maxLength])) as Record<SettableField, number>;

/** The built-in field values of a row, by field name. */
export function valuesOf(row: UserRow): Record<SettableField, string | null> {
  return Object.fromEntries(FIELD_ENTRIES.map(([name, f]) => [name, row[f.column] as string | null])) as Record<SettableField, string | null>;
}

/** The public (REST) user: the fields (null-free where they always have a value), then the rest. */
export type User = { id: string } & { [K in NonNullField]: string } & { [K in Exclude<FieldName, NonNullField>]: string | null } & {
  /** Name of the user's role, or null. */
  role: string | null;
  active: boolean;
  /** `invited` until a bulk invitation is accepted (`invitation_expired` once it lapses), `inactive` when deactivated. */
  status: UserStatus;
  attributes: Record<string, unknown>;
  /** Account fields (users/fields.ts ACCOUNT_FIELDS); never the password or its hash. */
  hasPassword: boolean;
  passwordResetRequired: boolean;
  doNotEmail: boolean;
  lastActivityAt: string | null;
  lockedUntil: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
};

export function parseAttributes(json: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export type UserStatus = "active" | "inactive" | "invited" | "invitation_expired";

export function statusOf(row: Pick<UserRow, "active" | "status" | "invitationExpiresAt">, now = Date.now()): UserStatus {
  if (!row.active) return "inactive";
  if (row.status !== "invited") return "active";
  return row.invitationExpiresAt !== null && row.invitationExpiresAt <= now ? "invitation_expired" : "invited";
}

/** The response value of one field: the stored value, else what the field shows when unset. */
function shown(row: UserRow, f: FieldSpec): string | null {
  const value = row[f.column] as string | null;
  if (value !== null || f.whenUnset === null) return value;
  if (f.whenUnset === "email") return row.email ?? "";
  if (f.whenUnset === "firstAndLastName") return `${row.firstName ?? ""} ${row.lastName ?? ""}`.trim();
  return f.whenUnset;
}

const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The public user as of `now` (the request's clock, ctx.clock): a lock that has expired is not
 * shown (the row keeps it until the next password check resets the counters), and an invitation
 * past its expiry shows as `invitation_expired`. Callers outside a request (rule evaluation in the
 * consumer) may leave `now` to the wall clock; neither value feeds a rule.
 */
export function toUser(row: UserRow, roles: RoleDirectory, now = Date.now()): User {
  const fields: Record<string, string | null> = {};
  for (const [name, f] of FIELD_ENTRIES) {
    // The referenced entity's name goes right before its id (`role`, `roleId`).
    if (f.byName) fields[f.byName.key] = roles.nameOf(row[f.column] as string | null);
    fields[name] = shown(row, f);
  }
  return {
    id: row.id,
    ...fields,
    active: row.active,
    status: statusOf(row, now),
    attributes: parseAttributes(row.attributes),
    hasPassword: row.passwordHash !== null,
    passwordResetRequired: row.passwordResetRequired,
    doNotEmail: row.doNotEmail,
    lastActivityAt: isoOrNull(row.lastActivityAt),
    lockedUntil: row.lockedUntil !== null && row.lockedUntil > now ? isoOrNull(row.lockedUntil) : null,
    version: row.version,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  } as User;
}

/** Entity tag of a user version; weak because JSON and XML renderings of one version differ. */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}
