/** The user as the core sees it, and its public (REST) representation. */
import type { users } from "../db/schema";
import type { RoleDirectory } from "./references";

export type UserRow = typeof users.$inferSelect;

/** Built-in fields a caller may set. `undefined` leaves a field alone; `null` clears it. */
export interface UserFields {
  externalId?: string | null;
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  displayName?: string | null;
  phone?: string | null;
  title?: string | null;
  department?: string | null;
  managerId?: string | null;
  timezone?: string | null;
  locale?: string | null;
  userType?: string | null;
  /** Role by exact name; resolved to `roleId` by the core. */
  role?: string | null;
  roleId?: string | null;
  identityProviderId?: string | null;
  /** Sign-in name when it differs from the email (SCIM userName); null means "use the email". */
  userName?: string | null;
  employeeNumber?: string | null;
  costCenter?: string | null;
  organization?: string | null;
  division?: string | null;
  active?: boolean;
  /** Merge-patch of custom attributes: a null value removes that key. */
  attributes?: Record<string, unknown> | null;
}

export const SETTABLE_FIELDS = [
  "externalId",
  "email",
  "firstName",
  "lastName",
  "displayName",
  "phone",
  "title",
  "department",
  "managerId",
  "timezone",
  "locale",
  "userType",
  "roleId",
  "identityProviderId",
  "userName",
  "employeeNumber",
  "costCenter",
  "organization",
  "division",
] as const satisfies readonly (keyof UserFields)[];

export type SettableField = (typeof SETTABLE_FIELDS)[number];

export interface User {
  id: string;
  externalId: string;
  email: string;
  firstName: string;
  lastName: string;
  displayName: string;
  phone: string | null;
  title: string | null;
  department: string | null;
  managerId: string | null;
  timezone: string | null;
  locale: string | null;
  userType: string | null;
  /** Name of the user's role, or null. */
  role: string | null;
  roleId: string | null;
  identityProviderId: string | null;
  /** The effective sign-in name: the stored userName, else the email. */
  userName: string;
  employeeNumber: string | null;
  costCenter: string | null;
  organization: string | null;
  division: string | null;
  active: boolean;
  attributes: Record<string, unknown>;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export function parseAttributes(json: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function toUser(row: UserRow, roles: RoleDirectory): User {
  const firstName = row.firstName ?? "";
  const lastName = row.lastName ?? "";
  return {
    id: row.id,
    externalId: row.externalId ?? "",
    email: row.email ?? "",
    firstName,
    lastName,
    displayName: row.displayName ?? `${firstName} ${lastName}`.trim(),
    phone: row.phone,
    title: row.title,
    department: row.department,
    managerId: row.managerId,
    timezone: row.timezone,
    locale: row.locale,
    userType: row.userType,
    role: roles.nameOf(row.roleId),
    roleId: row.roleId,
    identityProviderId: row.identityProviderId,
    userName: row.userName ?? row.email ?? "",
    employeeNumber: row.employeeNumber,
    costCenter: row.costCenter,
    organization: row.organization,
    division: row.division,
    active: row.active,
    attributes: parseAttributes(row.attributes),
    version: row.version,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

/** Entity tag of a user version; weak because JSON and XML renderings of one version differ. */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}
