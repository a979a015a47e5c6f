/**
 * The users core: the only place that knows what a valid user is, what is unique, what
 * deactivation and erasure mean, and which event each change emits. Adapters (REST, SCIM, bulk)
 * translate shapes and call these functions.
 */
import { and, eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { events, users } from "../db/schema";
import { isForeignKeyViolation, uniqueViolation } from "../db/errors";
import { ApiError, type FieldError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import { canonicalLocale, canonicalTimeZone } from "../lib/intl";
import { insertEvent, insertEventIfPreviousChangedOneRow, insertEventsForUsers, type EventType } from "../events/outbox";
import type { CoreContext } from "../core/context";
import type { MembershipRequest } from "../memberships/kinds";
import { markPending } from "../memberships/provisioning";
import { type AttributeSet, isEmail, loadAttributeSet, throwIfErrors } from "./attributes";
import { checkIdentityProvider, loadIdentityProviders, loadRoles, RoleDirectory, rolesQuery, type IdentityProviderRef, type RoleRef } from "./references";
import { MAX_FIELD_LENGTH, SETTABLE_FIELDS, parseAttributes, toUser, valuesOf, type SettableField, type User, type UserFields, type UserRow } from "./model";


function committed(ctx: CoreContext, eventId: string): void {
  ctx.onCommit?.([{ id: eventId, tenantId: ctx.tenantId }]);
}

/** Only kinds with a list; an empty list is kept (it means "none of this kind"). */
function requestedMemberships(request: MembershipRequest | undefined): MembershipRequest | undefined {
  if (!request) return undefined;
  const entries = Object.entries(request).filter(([, ids]) => Array.isArray(ids));
  return entries.length > 0 ? (Object.fromEntries(entries.map(([k, ids]) => [k, [...new Set(ids)]])) as MembershipRequest) : undefined;
}

// Derived from the field table (users/fields.ts); re-exported for callers that import it from here.
export { MAX_FIELD_LENGTH };

type Values = Record<SettableField, string | null>;

/** lower(userName ?? email): the effective userName that the unique index guards. */
function userNameLowerOf(values: Values): string | null {
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
      errors.push({ path: field, message: `must be at most ${MAX_FIELD_LENGTH[field]} characters` });
      continue;
    }
    if (field === "email" && !isEmail(value)) {
      errors.push({ path: field, message: "must be an email address such as jane@example.com" });
    } else if (field === "timezone") {
      const tz = canonicalTimeZone(value);
      if (tz) values.timezone = tz;
      else errors.push({ path: field, message: `'${value}' is not an IANA time zone (e.g. Europe/Copenhagen, America/New_York, UTC)` });
    } else if (field === "locale") {
      const locale = canonicalLocale(value);
      if (locale) values.locale = locale;
      else errors.push({ path: field, message: `'${value}' is not a BCP 47 language tag (e.g. en, en-GB, pt-BR)` });
    }
  }
}

function checkRequiredCustom(attributes: Record<string, unknown>, attrs: AttributeSet, errors: FieldError[], touchedKeys: Set<string> | null): void {
  for (const def of attrs.custom) {
    if (!def.required) continue;
    const present = attributes[def.key] !== undefined && attributes[def.key] !== null;
    if (present) continue;
    if (touchedKeys === null) errors.push({ path: `attributes.${def.key}`, message: "is required (this tenant requires it on every user)" });
    else if (touchedKeys.has(def.key)) errors.push({ path: `attributes.${def.key}`, message: "is required and cannot be cleared" });
  }
}

/** What validating a new or changed user needs from the database: small per-tenant tables, read once. */
export interface UserLookups {
  attrs: AttributeSet;
  roles: RoleDirectory;
  identityProviders: IdentityProviderRef[];
}

export async function loadUserLookups(ctx: CoreContext): Promise<UserLookups> {
  const [attrs, roles, identityProviders] = await Promise.all([
    loadAttributeSet(ctx.db, ctx.tenantId),
    loadRoles(ctx.db, ctx.tenantId),
    loadIdentityProviders(ctx.db, ctx.tenantId),
  ]);
  return { attrs, roles, identityProviders };
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

async function checkManager(ctx: CoreContext, managerId: string | null, selfId: string, errors: FieldError[]): Promise<void> {
  if (managerId === null) return;
  if (managerId === selfId) {
    errors.push({ path: "managerId", message: "a user cannot be their own manager" });
    return;
  }
  const manager = await ctx.db
    .select({ id: users.id, erasedAt: users.erasedAt })
    .from(users)
    .where(and(eq(users.tenantId, ctx.tenantId), eq(users.id, managerId)))
    .get();
  if (!manager || manager.erasedAt !== null) {
    errors.push({ path: "managerId", message: `no user with id '${managerId}' exists in this tenant` });
  }
}

/** Turns a unique-index violation into a 409 that names the field and the existing user. */
async function conflictFrom(ctx: CoreContext, err: unknown, values: Values): Promise<ApiError | null> {
  const columns = uniqueViolation(err);
  if (!columns || !columns.startsWith("users.")) return null;
  const field = columns.includes("email_lower")
    ? "email"
    : columns.includes("external_id")
      ? "externalId"
      : columns.includes("user_name_lower")
        ? "userName"
        : null;
  if (!field) return null;
  const condition =
    field === "email"
      ? eq(users.emailLower, (values.email ?? "").toLowerCase())
      : field === "userName"
        ? eq(users.userNameLower, userNameLowerOf(values) ?? "")
        : eq(users.externalId, values.externalId ?? "");
  const existing = await ctx.db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.tenantId, ctx.tenantId), condition))
    .get();
  return new ApiError("conflict", `A user with this ${field} already exists${existing ? ` (id ${existing.id})` : ""}.`, {
    errors: [{ path: field, message: "must be unique in this tenant" }],
    extra: { field, existingUserId: existing?.id ?? null },
  });
}

/**
 * Cheap early check for a taken email, externalId or effective userName (userName, else email);
 * the unique indexes remain the guarantee.
 */
async function checkUnique(ctx: CoreContext, values: Values, selfId: string | null, userNameLower: string | null): Promise<void> {
  const checks: Array<["email" | "externalId" | "userName", ReturnType<typeof eq>]> = [];
  if (values.email) checks.push(["email", eq(users.emailLower, values.email.toLowerCase())]);
  if (values.externalId) checks.push(["externalId", eq(users.externalId, values.externalId)]);
  if (userNameLower) checks.push(["userName", eq(users.userNameLower, userNameLower)]);
  for (const [field, condition] of checks) {
    const existing = await ctx.db
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.tenantId, ctx.tenantId), condition))
      .get();
    if (existing && existing.id !== selfId) {
      const what = field === "userName" ? "userName (a user's userName defaults to its email)" : field;
      throw new ApiError("conflict", `A user with this ${what} already exists (id ${existing.id}).`, {
        errors: [{ path: field, message: "must be unique in this tenant" }],
        extra: { field, existingUserId: existing.id },
      });
    }
  }
}

export interface CreateOptions {
  /** Extra statements committed atomically with the user (e.g. an idempotency record). */
  alsoWrite?: (user: User) => BatchItem<"sqlite">[];
  /** Memberships to apply asynchronously; they travel in the event, so they commit with the user. */
  memberships?: MembershipRequest;
}

/**
 * Validates a new user and builds its row, without I/O: everything but the manager's existence and
 * uniqueness, which callers check singly (createUser) or in bulk (invitations).
 */
export function buildNewUser(ctx: CoreContext, input: UserFields, lookups: UserLookups, now: number): { row: UserRow; errors: FieldError[] } {
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
  const row: UserRow = {
    tenantId: ctx.tenantId,
    id,
    ...values,
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
  return { row, errors };
}

export async function createUser(ctx: CoreContext, input: UserFields, options: CreateOptions = {}): Promise<User> {
  const lookups = await loadUserLookups(ctx);
  const { roles } = lookups;
  const now = Date.now();
  const { row, errors } = buildNewUser(ctx, input, lookups, now);
  const id = row.id;
  const values = valuesOf(row);
  await checkManager(ctx, values.managerId, id, errors);
  throwIfErrors(errors);
  await checkUnique(ctx, values, null, row.userNameLower);

  const user = toUser(row, roles);
  const eventId = uuidv7(now);
  const requested = requestedMemberships(options.memberships);
  try {
    await ctx.db.batch([
      ctx.db.insert(users).values(row),
      insertEvent(ctx.db, { id: eventId, tenantId: ctx.tenantId, type: "user.created", subjectId: id, data: requested ? { user, memberships: requested } : { user }, createdAt: now }),
      // Every new user gets rule-based enrolment, so creation always has provisioning to track.
      markPending(ctx.db, { tenantId: ctx.tenantId, userId: id, eventId, now }),
      ...(options.alsoWrite?.(user) ?? []),
    ]);
  } catch (err) {
    const conflict = await conflictFrom(ctx, err, values);
    if (conflict) throw conflict;
    if (isForeignKeyViolation(err)) throw new ApiError("invalid_manager", "managerId: the manager no longer exists in this tenant.", { errors: [{ path: "managerId", message: "must be the id of a user of this tenant" }] });
    throw err;
  }
  committed(ctx, eventId);
  return user;
}

export async function findUserRow(ctx: CoreContext, id: string): Promise<UserRow | undefined> {
  return ctx.db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, ctx.tenantId), eq(users.id, id)))
    .get();
}

/** Loads a live user or throws 404 (unknown) / 410 (erased). */
export async function getUserRow(ctx: CoreContext, id: string): Promise<UserRow> {
  const row = await findUserRow(ctx, id);
  if (!row) throw new ApiError("not_found", `No user with id '${id}' exists in this tenant.`);
  if (row.erasedAt !== null) {
    throw new ApiError("user_erased", `User '${id}' was erased on ${new Date(row.erasedAt).toISOString()}; only its id remains.`);
  }
  return row;
}

export interface UpdateOptions {
  /** Version the caller last saw (from If-Match); a mismatch is 412. */
  expectedVersion?: number;
  /** Memberships to apply asynchronously (per listed kind, the complete set of manual memberships). */
  memberships?: MembershipRequest;
}

const MAX_WRITE_ATTEMPTS = 3;

/**
 * Applies a merge-patch. Writes are optimistic (`WHERE version = ?`) so concurrent patches never
 * lose each other's changes; a patch that changes nothing writes nothing and emits no event.
 */
export async function updateUser(ctx: CoreContext, id: string, patch: UserFields, options: UpdateOptions = {}): Promise<User> {
  const lookups = await loadUserLookups(ctx);
  const { attrs, roles } = lookups;
  for (let attempt = 1; ; attempt++) {
    const row = await getUserRow(ctx, id);
    if (options.expectedVersion !== undefined && row.version !== options.expectedVersion) {
      throw new ApiError("precondition_failed", `The user is at version ${row.version}, not ${options.expectedVersion}. Fetch it again and retry.`, { extra: { currentVersion: row.version } });
    }
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
    checkReferences(patch, values, touched, lookups, errors, valuesOf(row));

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
    if (touched.has("managerId") && values.managerId !== row.managerId) await checkManager(ctx, values.managerId, id, errors);
    throwIfErrors(errors);

    const changes: Record<string, unknown> = {};
    for (const field of SETTABLE_FIELDS) if (values[field] !== row[field]) changes[field] = values[field];
    for (const key of new Set([...Object.keys(current), ...Object.keys(attributes)])) {
      if (JSON.stringify(current[key]) !== JSON.stringify(attributes[key])) changes[`attributes.${key}`] = attributes[key] ?? null;
    }
    const active = patch.active ?? row.active;
    if (active !== row.active) changes.active = active;
    const requested = requestedMemberships(options.memberships);
    if (Object.keys(changes).length === 0) {
      if (!requested) return toUser(row, roles);
      // Nothing about the user changed, but memberships were asked for: record the request.
      const now = Date.now();
      const eventId = uuidv7(now);
      await ctx.db.batch([
        insertEvent(ctx.db, { id: eventId, tenantId: ctx.tenantId, type: "user.memberships_requested", subjectId: id, data: { memberships: requested, version: row.version }, createdAt: now }),
        markPending(ctx.db, { tenantId: ctx.tenantId, userId: id, eventId, now }),
      ]);
      committed(ctx, eventId);
      return toUser(row, roles);
    }

    const userNameLower = userNameLowerOf(values);
    const userNameChanged = userNameLower !== row.userNameLower;
    if (changes.email !== undefined || changes.externalId !== undefined || userNameChanged) {
      await checkUnique(
        ctx,
        { ...values, email: changes.email !== undefined ? values.email : null, externalId: changes.externalId !== undefined ? values.externalId : null },
        id,
        userNameChanged ? userNameLower : null,
      );
    }
    const now = Math.max(Date.now(), row.updatedAt + 1);
    const next: UserRow = {
      ...row,
      ...values,
      emailLower: values.email!.toLowerCase(),
      userNameLower,
      active,
      attributes: JSON.stringify(attributes),
      version: row.version + 1,
      updatedAt: now,
    };
    const type: EventType = changes.active === false ? "user.deactivated" : changes.active === true ? "user.reactivated" : "user.updated";
    const eventId = uuidv7(now);
    const data = requested ? { changes, version: next.version, memberships: requested } : { changes, version: next.version };
    let results;
    try {
      results = await ctx.db.batch([
        ctx.db
          .update(users)
          .set({ ...values, emailLower: next.emailLower, userNameLower, active, attributes: next.attributes, version: next.version, updatedAt: now })
          .where(and(eq(users.tenantId, ctx.tenantId), eq(users.id, id), eq(users.version, row.version))),
        insertEventIfPreviousChangedOneRow(ctx.db, { id: eventId, tenantId: ctx.tenantId, type, subjectId: id, data, createdAt: now }),
        ...(requested ? [markPending(ctx.db, { tenantId: ctx.tenantId, userId: id, eventId, now, ifPreviousChanged: true })] : []),
      ]);
    } catch (err) {
      const conflict = await conflictFrom(ctx, err, values);
      if (conflict) throw conflict;
      throw err;
    }
    if (results[0]!.meta.changes === 1) {
      committed(ctx, eventId);
      return toUser(next, roles);
    }
    // Someone else wrote in between. With If-Match that is the caller's 412; without it, re-read and re-apply.
    if (options.expectedVersion !== undefined) {
      throw new ApiError("precondition_failed", "The user changed while this request was being applied. Fetch it again and retry.");
    }
    if (attempt >= MAX_WRITE_ATTEMPTS) {
      throw new ApiError("conflict", "The user is being changed by other requests right now; retry shortly.");
    }
  }
}

export function deactivateUser(ctx: CoreContext, id: string, options: UpdateOptions = {}): Promise<User> {
  return updateUser(ctx, id, { active: false }, options);
}

/**
 * Erases a user's personal data for good. The row stays as a tombstone (id, timestamps) so that
 * references and audit trails resolve; payloads of its past events are scrubbed too.
 */
export async function eraseUser(ctx: CoreContext, id: string, options: UpdateOptions = {}): Promise<{ id: string; erasedAt: string }> {
  const row = await getUserRow(ctx, id);
  if (options.expectedVersion !== undefined && row.version !== options.expectedVersion) {
    throw new ApiError("precondition_failed", `The user is at version ${row.version}, not ${options.expectedVersion}.`);
  }
  const now = Date.now();
  const eventId = uuidv7(now);
  const cleared = Object.fromEntries(SETTABLE_FIELDS.map((f) => [f, null]));
  await ctx.db.batch([
    // Reports of the erased user keep existing; they just lose the manager reference (each with
    // its user.updated event, written first, while the condition still selects them).
    insertEventsForUsers(ctx.db, { tenantId: ctx.tenantId, type: "user.updated", data: { changes: { managerId: null } }, createdAt: now }, eq(users.managerId, id)),
    ctx.db
      .update(users)
      .set({ managerId: null, version: sql`${users.version} + 1`, updatedAt: now })
      .where(and(eq(users.tenantId, ctx.tenantId), eq(users.managerId, id))),
    ctx.db
      .update(users)
      .set({ ...cleared, emailLower: null, userNameLower: null, active: false, attributes: "{}", version: row.version + 1, updatedAt: now, erasedAt: now })
      .where(and(eq(users.tenantId, ctx.tenantId), eq(users.id, id))),
    ctx.db
      .update(events)
      .set({ data: "{}" })
      .where(and(eq(events.tenantId, ctx.tenantId), eq(events.subjectId, id))),
    insertEvent(ctx.db, { id: eventId, tenantId: ctx.tenantId, type: "user.erased", subjectId: id, data: {}, createdAt: now }),
  ]);
  committed(ctx, eventId);
  return { id, erasedAt: new Date(now).toISOString() };
}

/**
 * Reads a live user (404 / 410 as getUserRow) together with extra queries in one D1 batch, i.e. one
 * round trip: the role names it needs and whatever the caller shows next to the user.
 */
export async function readUserWith<const Q extends BatchItem<"sqlite">[]>(
  ctx: CoreContext,
  id: string,
  extra: Q,
): Promise<[User, ...{ [K in keyof Q]: Awaited<Q[K]> }]> {
  const [rows, roleRows, ...rest] = await ctx.db.batch([
    ctx.db.select().from(users).where(and(eq(users.tenantId, ctx.tenantId), eq(users.id, id))),
    rolesQuery(ctx.db, ctx.tenantId),
    ...extra,
  ] as unknown as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  const row = (rows as UserRow[])[0];
  if (!row) throw new ApiError("not_found", `No user with id '${id}' exists in this tenant.`);
  if (row.erasedAt !== null) {
    throw new ApiError("user_erased", `User '${id}' was erased on ${new Date(row.erasedAt).toISOString()}; only its id remains.`);
  }
  return [toUser(row, new RoleDirectory(roleRows as RoleRef[])), ...rest] as [User, ...{ [K in keyof Q]: Awaited<Q[K]> }];
}

export async function getUser(ctx: CoreContext, id: string): Promise<User> {
  const [row, roles] = await Promise.all([getUserRow(ctx, id), loadRoles(ctx.db, ctx.tenantId)]);
  return toUser(row, roles);
}
