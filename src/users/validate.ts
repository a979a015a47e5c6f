/**
 * The rules of a valid user, without I/O: normalising and checking built-in values, custom
 * attributes, required attributes, role and identity-provider references, and computing what a
 * change changes. Create, update, SCIM and invitations all come through here.
 */
import { fieldPath, invalidFields, type FieldError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import { canonicalLocale, canonicalTimeZone } from "../lib/intl";
import type { CoreContext } from "../core/context";
import type { MembershipRequest } from "../memberships/kinds";
import { type AttributeSet, isEmail } from "./attributes";
import { isSingleLine, textProblem } from "../lib/text";
import { fieldSpec } from "./fields";
import { checkIdentityProvider, type IdentityProviderRef, type RoleDirectory } from "./references";
import { newAccount, patchAccount } from "./account";
import { MAX_FIELD_LENGTH, SETTABLE_FIELDS, parseAttributes, valuesOf, type SettableField, type UserFields, type UserRow } from "./model";

/** What validating a new or changed user needs from the database: small per-tenant tables, read once. */
export interface UserLookups {
  attrs: AttributeSet;
  roles: RoleDirectory;
  identityProviders: IdentityProviderRef[];
}

/** Only kinds with a list; an empty list is kept (it means "none of this kind"). */
export function requestedMemberships(request: MembershipRequest | undefined): MembershipRequest | undefined {
  if (!request) return undefined;
  const entries = Object.entries(request).filter(([, ids]) => Array.isArray(ids));
  return entries.length > 0 ? (Object.fromEntries(entries.map(([k, ids]) => [k, [...new Set(ids)]])) as MembershipRequest) : undefined;
}

// Derived from the field table (users/fields.ts).
export { MAX_FIELD_LENGTH };

export type Values = Record<SettableField, string | null>;

export { valuesOf };

/** lower(userName ?? email): the effective userName that the unique index guards. */
export function userNameLowerOf(values: Values): string | null {
  const name = values.userName ?? values.email;
  return name === null ? null : name.toLowerCase();
}

/** Normalises and checks built-in values in place; collects every problem before failing. */
function checkBuiltIns(values: Values, touched: Set<string>, attrs: AttributeSet, errors: FieldError[], isCreate: boolean): void {
  for (const field of SETTABLE_FIELDS) {
    let value = values[field];
    if (typeof value === "string") {
      value = value.trim();
      values[field] = value === "" ? null : value;
      value = values[field];
    }
    // The built-in definition, even when a tenant's custom attribute shares its name (costCenter).
    const def = attrs.builtIn(field);
    if (value === null) {
      if (def?.required && (isCreate || touched.has(field))) {
        errors.push({
          path: field,
          message: isCreate
            ? "is required (this tenant requires it on every user)"
            : "is required and cannot be cleared",
        });
      }
      continue;
    }
    if (!touched.has(field)) continue;
    if (value.length > MAX_FIELD_LENGTH[field]) {
      errors.push({ path: field, message: `must be at most ${MAX_FIELD_LENGTH[field]} characters (got ${value.length})` });
      continue;
    }
    // The text rule (lib/text.ts), and one line unless the field spec allows more (users/fields.ts).
    const problem = textProblem(value) ?? (fieldSpec(field).multiline || isSingleLine(value) ? null : "must be a single line (no tab or line break)");
    if (problem) {
      errors.push({ path: field, message: problem });
      continue;
    }
    if (field === "email" && !isEmail(value)) {
      errors.push({ path: field, message: `must be an email address, e.g. ${fieldSpec("email").example ?? "jane.doe@example.com"}` });
    } else if (field === "timezone") {
      const tz = canonicalTimeZone(value);
      if (tz) values.timezone = tz;
      else errors.push({ path: field, message: `must be an IANA time zone, e.g. Europe/Copenhagen, America/New_York or UTC (got '${value}')` });
    } else if (field === "locale") {
      const locale = canonicalLocale(value);
      if (locale) values.locale = locale;
      else errors.push({ path: field, message: `must be a BCP 47 language tag, e.g. en, en-GB or pt-BR (got '${value}')` });
    }
  }
}

function checkRequiredCustom(attributes: Record<string, unknown>, attrs: AttributeSet, errors: FieldError[], touchedKeys: Set<string> | null): void {
  for (const def of attrs.custom) {
    if (!def.required) continue;
    const present = attributes[def.key] !== undefined && attributes[def.key] !== null;
    if (present) continue;
    const path = fieldPath(["attributes", def.key]);
    if (touchedKeys === null) errors.push({ path, message: "is required (this tenant requires it on every user)" });
    else if (touchedKeys.has(def.key)) errors.push({ path, message: "is required and cannot be cleared" });
  }
}

/** Resolves `role` (by exact name) into `roleId` and checks role and identity-provider references. */
function checkReferences(input: UserFields, values: Values, touched: Set<string>, lookups: UserLookups, errors: FieldError[], previous?: Values): void {
  const { roles } = lookups;
  if (input.role !== undefined) {
    const name = input.role === null ? "" : input.role.trim();
    const byName = name === "" ? null : roles.resolveName(name, errors);
    if (input.roleId !== undefined && input.roleId !== null && byName !== null && byName !== input.roleId) {
      errors.push({ path: "role", message: "names a different role than roleId; send one of them" });
    }
    if (name === "" || byName !== null) values.roleId = byName;
    touched.add("roleId");
  }
  if (touched.has("roleId") && values.roleId !== null && values.roleId !== previous?.roleId && !roles.hasId(values.roleId)) {
    const names = roles.all.map((r) => `${r.id} (${r.name})`).join(", ");
    errors.push({ path: "roleId", message: `no role with id '${values.roleId}' exists in this tenant${names ? `; roles: ${names}` : ""}` });
  }
  if (touched.has("identityProviderId") && values.identityProviderId !== null && values.identityProviderId !== previous?.identityProviderId) {
    checkIdentityProvider(lookups.identityProviders, values.identityProviderId, errors);
  }
}

/**
 * Every problem of a request in one list. `schemaErrors` are what the adapter's request schema
 * found (the fields they name were left out of the input): they come first, and a rule of the
 * core that finds a problem on a field the schema already reported adds nothing.
 */
export function withSchemaErrors(schemaErrors: readonly FieldError[], errors: FieldError[]): FieldError[] {
  const reported = new Set(schemaErrors.map((e) => e.path));
  return [...schemaErrors, ...errors.filter((e) => !reported.has(e.path))];
}

/** 400 naming every problem at once (see withSchemaErrors); nothing is written. */
export function throwIfInvalid(errors: FieldError[], schemaErrors: readonly FieldError[] = []): void {
  const all = withSchemaErrors(schemaErrors, errors);
  if (all.length > 0) throw invalidFields(all);
}

/**
 * Validates a new user and builds its row, without I/O: everything but the manager's existence and
 * uniqueness, which callers check singly (createUser) or in bulk (invitations).
 */
export function buildNewUser(ctx: CoreContext, input: UserFields, lookups: UserLookups, now: number): { row: UserRow; errors: FieldError[]; password: string | null } {
  const { attrs } = lookups;
  const id = uuidv7(now);
  const values = Object.fromEntries(SETTABLE_FIELDS.map((f) => [f, input[f] ?? null])) as Values;
  const errors: FieldError[] = [];
  checkBuiltIns(values, new Set(SETTABLE_FIELDS), attrs, errors, true);
  checkReferences(input, values, new Set(SETTABLE_FIELDS), lookups, errors);
  const attributes = Object.fromEntries(Object.entries(input.attributes ?? {}).filter(([, v]) => v !== null));
  attrs.checkCustomAttributes(input.attributes ?? {}, errors);
  checkRequiredCustom(attributes, attrs, errors, null);
  if (values.managerId !== null && values.managerId === id) errors.push({ path: "managerId", message: "a user cannot be their own manager" });
  const account = newAccount(input, values.email, errors);
  const row: UserRow = {
    tenantId: ctx.tenantId,
    id,
    ...values,
    ...account.columns,
    emailLower: values.email?.toLowerCase() ?? null,
    userNameLower: userNameLowerOf(values),
    active: input.active ?? true,
    status: "active",
    invitationExpiresAt: null,
    attributes: JSON.stringify(attributes),
    version: 1,
    createdAt: now,
    updatedAt: now,
    erasedAt: null,
  };
  return { row, errors, password: account.password };
}


/** What a merge-patch does to a row: the row it leads to, what changed, and what is wrong with it. */
export interface AppliedPatch {
  next: UserRow;
  /** Changed built-ins by name, custom attributes as `attributes.<key>`, and `active`. */
  changes: Record<string, unknown>;
  errors: FieldError[];
  /** The manager it newly references, which the caller must know to be a live user. */
  newManagerId: string | null;
  /** A new password to hash into `next.passwordHash` once the change is valid (users/account.ts). */
  password: string | null | undefined;
}

/**
 * Applies a merge-patch to a row in memory: `undefined` keeps a field, `null` clears it,
 * `attributes` merges key by key (a null value removes the key, `attributes: null` removes all).
 */
export function applyPatch(row: UserRow, patch: UserFields, lookups: UserLookups, now: number): AppliedPatch {
  const { attrs } = lookups;
  const previous = valuesOf(row);
  const values = valuesOf(row);
  const touched = new Set<string>();
  for (const field of SETTABLE_FIELDS) {
    if (patch[field] !== undefined) {
      values[field] = patch[field];
      touched.add(field);
    }
  }
  const errors: FieldError[] = [];
  checkBuiltIns(values, touched, attrs, errors, false);
  checkReferences(patch, values, touched, lookups, errors, previous);

  const current = parseAttributes(row.attributes);
  let attributes = current;
  let touchedKeys = new Set<string>();
  if (patch.attributes === null) {
    touchedKeys = new Set(Object.keys(current).concat(attrs.custom.map((d) => d.key)));
    attributes = {};
  } else if (patch.attributes) {
    attrs.checkCustomAttributes(patch.attributes, errors);
    touchedKeys = new Set(Object.keys(patch.attributes));
    attributes = { ...current };
    for (const [key, value] of Object.entries(patch.attributes)) {
      if (value === null) delete attributes[key];
      else attributes[key] = value;
    }
  }
  checkRequiredCustom(attributes, attrs, errors, touchedKeys);
  if (values.managerId !== null && values.managerId === row.id) errors.push({ path: "managerId", message: "a user cannot be their own manager" });

  const changes: Record<string, unknown> = {};
  for (const field of SETTABLE_FIELDS) if (values[field] !== row[field]) changes[field] = values[field];
  for (const key of new Set([...Object.keys(current), ...Object.keys(attributes)])) {
    if (JSON.stringify(current[key]) !== JSON.stringify(attributes[key])) changes[`attributes.${key}`] = attributes[key] ?? null;
  }
  const active = patch.active ?? row.active;
  if (active !== row.active) changes.active = active;
  const account = patchAccount(row, patch, values.email, errors, changes);
  const next: UserRow = {
    ...row,
    ...values,
    ...account.set,
    emailLower: values.email?.toLowerCase() ?? null,
    userNameLower: userNameLowerOf(values),
    active,
    attributes: JSON.stringify(attributes),
    version: row.version + 1,
    updatedAt: Math.max(now, row.updatedAt + 1),
  };
  const newManagerId = values.managerId !== null && values.managerId !== row.managerId && values.managerId !== row.id ? values.managerId : null;
  return { next, changes, errors, newManagerId, password: account.password };
}
