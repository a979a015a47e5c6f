/**
 * Bulk invitations: up to 1,000 people in one request, each succeeding or failing on its own.
 * Every entry is validated by the users core (buildNewUser) against lookups read once; uniqueness,
 * managers and organizations are checked with chunked IN queries; all accepted entries are then
 * written in one D1 batch of multi-row inserts (each under D1's 100 bound parameters). If that
 * batch fails (a concurrent write took an email), entries are retried one batch each, so a failed
 * entry never leaves a partial user behind. The single-invitation lifecycle is in ./lifecycle.ts.
 */
import { actorJsonOf } from "../audit/actor";
import { and, eq, getTableColumns, inArray, isNull, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { CoreContext } from "../core/context";
import { uniqueViolation } from "../db/errors";
import { collections, events, invitations, userProvisioning, users } from "../db/schema";
import type { EventPayloads, EventType } from "../events/catalogue";
import type { OutboxRef } from "../events/dispatch";
import { ApiError, fieldPath, type FieldError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import { toUser, type User, type UserFields, type UserRow } from "../users/model";
import { buildNewUser, readForWrite, type UserLookups } from "../users/service";
import { withSchemaErrors } from "../users/validate";
import { hashPassword } from "../users/password";
import { DAY_MS, DEFAULT_INVITATION_DAYS, mailerPayload, MAX_INVITATIONS_PER_REQUEST, type InvitationRow } from "./model";

/** Entries of one request that may carry a password (each is hashed with PBKDF2 in the request). */
export const MAX_PASSWORDS_PER_REQUEST = 20;
/** Values per IN (...) list: well under D1's 100 bound parameters with the tenant id. */
const IN_CHUNK = 90;

export interface InviteEntry extends UserFields {
  organizationIds?: string[];
}

export type InviteResult =
  | { index: number; status: "created"; userId: string; invitationId: string }
  | { index: number; status: "existing"; userId: string; organizationIds: string[] }
  | { index: number; status: "error"; code: string; errors: FieldError[] };

export interface InviteOptions {
  sendEmail: boolean;
  expiresInDays?: number;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Rows per multi-row INSERT: Drizzle binds every column on SQLite (defaults too), so count them
 * all, and leave `reserved` parameters for the rest of the statement (e.g. ON CONFLICT ... SET).
 */
function rowsPerInsert(table: Parameters<typeof getTableColumns>[0], reserved = 0): number {
  return Math.max(1, Math.floor((99 - reserved) / Object.keys(getTableColumns(table)).length));
}

type KeyColumn = "emailLower" | "externalId" | "userNameLower" | "id";
type Match = { id: string; emailLower: string | null; key: string | null; active: boolean };

/** Live users whose `column` is among `values`: one statement per chunk, for the read batch. */
function usersByQueries(ctx: CoreContext, column: KeyColumn, values: string[]) {
  return chunks([...new Set(values)], IN_CHUNK).map((part) =>
    ctx.db
      // `key` under an alias of its own: batch results come back as objects, where a column
      // selected twice (email_lower as emailLower and as key) would collapse into one.
      .select({ id: users.id, emailLower: users.emailLower, key: sql<string | null>`${users[column]}`.as("match_key"), active: users.active })
      .from(users)
      .where(and(eq(users.tenantId, ctx.tenantId), inArray(users[column], part), isNull(users.erasedAt))),
  );
}

function organizationQueries(ctx: CoreContext, ids: string[]) {
  return chunks([...new Set(ids)], IN_CHUNK).map((part) =>
    ctx.db
      .select({ id: collections.id })
      .from(collections)
      .where(and(eq(collections.tenantId, ctx.tenantId), eq(collections.kind, "organization"), inArray(collections.id, part), isNull(collections.deletedAt))),
  );
}

/** The keys an entry will be stored under, as the core normalises them (trimmed, lower-cased). */
function keysOf(entry: InviteEntry) {
  const trim = (v: string | null | undefined) => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined);
  const email = trim(entry.email)?.toLowerCase();
  return { email, externalId: trim(entry.externalId), userName: (trim(entry.userName) ?? email)?.toLowerCase(), managerId: trim(entry.managerId) };
}

interface Planned {
  index: number;
  row: UserRow;
  user: User;
  invitation: InvitationRow;
  organizationIds: string[];
}

function statementsFor(ctx: CoreContext, created: Planned[], existing: { userId: string; organizationIds: string[] }[], lookups: UserLookups, now: number) {
  const eventRows: (typeof events.$inferInsert)[] = [];
  const provisioning: (typeof userProvisioning.$inferInsert)[] = [];
  const pending: OutboxRef[] = [];
  const event = <T extends EventType>(type: T, subjectId: string, data: EventPayloads[T], status: "pending" | "processed") => {
    const id = uuidv7(now);
    eventRows.push({ id, tenantId: ctx.tenantId, type, subjectId, data: JSON.stringify(data), createdAt: now, status, processedAt: status === "processed" ? now : null, actor: actorJsonOf(ctx.db) });
    if (status === "pending") pending.push({ id, tenantId: ctx.tenantId });
    return id;
  };
  for (const p of created) {
    const memberships = p.organizationIds.length > 0 ? { organization: p.organizationIds } : undefined;
    const eventId = event("user.created", p.row.id, memberships ? { user: p.user, memberships } : { user: p.user }, "pending");
    provisioning.push({ tenantId: ctx.tenantId, userId: p.row.id, eventId, status: "pending", errors: null, requestedAt: now, completedAt: null });
    event("invitation.created", p.row.id, mailerPayload(p.user, p.invitation, lookups), "processed");
  }
  for (const e of existing) {
    if (e.organizationIds.length === 0) continue;
    const eventId = event("user.memberships_requested", e.userId, { addMemberships: { organization: e.organizationIds } }, "pending");
    provisioning.push({ tenantId: ctx.tenantId, userId: e.userId, eventId, status: "pending", errors: null, requestedAt: now, completedAt: null });
  }
  const statements: BatchItem<"sqlite">[] = [];
  const userRows = created.map((p) => p.row);
  for (const part of chunks(userRows, rowsPerInsert(users))) statements.push(ctx.db.insert(users).values(part));
  for (const part of chunks(created.map((p) => p.invitation), rowsPerInsert(invitations))) statements.push(ctx.db.insert(invitations).values(part));
  for (const part of chunks(eventRows, rowsPerInsert(events))) statements.push(ctx.db.insert(events).values(part));
  for (const part of chunks(provisioning, rowsPerInsert(userProvisioning, 8))) {
    statements.push(
      ctx.db
        .insert(userProvisioning)
        .values(part)
        .onConflictDoUpdate({
          target: [userProvisioning.tenantId, userProvisioning.userId],
          set: { eventId: sql`excluded.event_id`, status: "pending", errors: null, requestedAt: sql`excluded.requested_at`, completedAt: null },
        }),
    );
  }
  return { statements, pending };
}

/** An entry that failed the request schema: its errors, and the valid rest for the core's own checks. */
export interface InvalidEntry {
  invalid: FieldError[];
  valid?: InviteEntry;
}

export async function inviteUsers(ctx: CoreContext, entries: Array<InviteEntry | InvalidEntry>, options: InviteOptions) {
  if (entries.length > MAX_INVITATIONS_PER_REQUEST) {
    throw new ApiError("validation_failed", `users: at most ${MAX_INVITATIONS_PER_REQUEST} per request; split the list`, {
      errors: [{ path: "users", message: `must hold at most ${MAX_INVITATIONS_PER_REQUEST} entries` }],
    });
  }
  const now = ctx.clock.now();
  const expiresAt = now + (options.expiresInDays ?? DEFAULT_INVITATION_DAYS) * DAY_MS;
  const results: InviteResult[] = new Array(entries.length);
  const fail = (index: number, code: string, errors: FieldError[]) => {
    results[index] = { index, status: "error", code, errors: errors.map((e) => ({ path: fieldPath(["users", index, e.path]), message: e.message })) };
  };

  // Each password costs a PBKDF2 hash (hundreds of ms of CPU): bound them per request.
  const withPasswords = entries.filter((e) => !("invalid" in e) && typeof e.password === "string").length;
  if (withPasswords > MAX_PASSWORDS_PER_REQUEST) {
    throw new ApiError("validation_failed", `users: at most ${MAX_PASSWORDS_PER_REQUEST} entries per request may set a password; split the list or set passwords afterwards`, {
      errors: [{ path: "users", message: `at most ${MAX_PASSWORDS_PER_REQUEST} entries may carry a password` }],
    });
  }
  const valid: Array<{ index: number; entry: InviteEntry }> = [];
  const invalid: Array<{ index: number; entry: InvalidEntry }> = [];
  entries.forEach((entry, index) => ("invalid" in entry ? invalid.push({ index, entry }) : valid.push({ index, entry })));

  // One read batch for the whole request: the rules' reference data, then every organization,
  // email, externalId, userName and manager that any entry names, in chunked IN lists.
  const keys = valid.map((v) => keysOf(v.entry));
  const present = (values: (string | undefined)[]) => values.filter((v): v is string => v !== undefined);
  const groups = [
    organizationQueries(ctx, valid.flatMap((v) => v.entry.organizationIds ?? [])),
    usersByQueries(ctx, "emailLower", present(keys.map((k) => k.email))),
    usersByQueries(ctx, "externalId", present(keys.map((k) => k.externalId))),
    usersByQueries(ctx, "userNameLower", present(keys.map((k) => k.userName))),
    usersByQueries(ctx, "id", present(keys.map((k) => k.managerId))),
  ];
  const reads = await readForWrite(ctx, { extra: groups.flat() });
  const lookups = reads.lookups;
  let offset = 0;
  const [orgRows, emailRows, externalIdRows, userNameRows, managerRows] = groups.map((g) => {
    const rows = reads.extra.slice(offset, offset + g.length).flat();
    offset += g.length;
    return rows;
  }) as [{ id: string }[], Match[], Match[], Match[], Match[]];
  const byKey = (rows: Match[]) => new Map(rows.filter((r) => r.key !== null).map((r) => [r.key!, r]));
  const orgs = new Set(orgRows.map((r) => r.id));
  const byEmail = byKey(emailRows);
  // An entry that failed the schema fails, with the core's findings on its valid rest added.
  for (const { index, entry } of invalid) {
    fail(index, "validation_failed", entry.valid ? withSchemaErrors(entry.invalid, buildNewUser(ctx, entry.valid, lookups, now).errors) : entry.invalid);
  }

  const existing: Array<{ index: number; userId: string; organizationIds: string[] }> = [];
  const candidates: Array<{ index: number; entry: InviteEntry; row: UserRow }> = [];
  for (const { index, entry } of valid) {
    const organizationIds = [...new Set(entry.organizationIds ?? [])];
    const unknownOrgs = organizationIds.filter((id) => !orgs.has(id));
    const orgErrors = unknownOrgs.map((id) => ({ path: fieldPath(["organizationIds", (entry.organizationIds ?? []).indexOf(id)]), message: `no organization with id '${id}' exists in this tenant` }));
    const match = entry.email ? byEmail.get(entry.email.trim().toLowerCase()) : undefined;
    if (match) {
      if (orgErrors.length > 0) fail(index, "invalid_organization", orgErrors);
      else existing.push({ index, userId: match.id, organizationIds });
      continue;
    }
    const { row, errors } = buildNewUser(ctx, entry, lookups, now);
    errors.push(...orgErrors);
    if (errors.length > 0) fail(index, "validation_failed", errors);
    else candidates.push({ index, entry, row });
  }

  // Uniqueness against the tenant and within the request; managers must exist.
  const byExternalId = byKey(externalIdRows);
  const byUserName = byKey(userNameRows);
  const managers = byKey(managerRows);
  const seen = { email: new Map<string, number>(), externalId: new Map<string, number>(), userName: new Map<string, number>() };
  const planned: Planned[] = [];
  for (const { index, entry, row } of candidates) {
    const errors: FieldError[] = [];
    const clash = byExternalId.get(row.externalId!) ?? byUserName.get(row.userNameLower!);
    if (clash) errors.push({ path: byExternalId.has(row.externalId!) ? "externalId" : "userName", message: `already belongs to user ${clash.id}` });
    for (const [field, key] of [["email", row.emailLower!], ["externalId", row.externalId!], ["userName", row.userNameLower!]] as const) {
      const earlier = seen[field].get(key);
      if (earlier !== undefined) errors.push({ path: field, message: `duplicates ${fieldPath(["users", earlier])} in this request` });
    }
    if (row.managerId !== null && !managers.has(row.managerId)) errors.push({ path: "managerId", message: `no user with id '${row.managerId}' exists in this tenant` });
    if (errors.length > 0) {
      fail(index, errors.some((e) => e.message.startsWith("already") || e.message.startsWith("duplicates")) ? "conflict" : "validation_failed", errors);
      continue;
    }
    seen.email.set(row.emailLower!, index);
    seen.externalId.set(row.externalId!, index);
    seen.userName.set(row.userNameLower!, index);
    row.status = "invited";
    row.invitationExpiresAt = expiresAt;
    if (typeof entry.password === "string") row.passwordHash = await hashPassword(entry.password);
    const organizationIds = [...new Set(entry.organizationIds ?? [])];
    const invitation: InvitationRow = {
      tenantId: ctx.tenantId,
      id: uuidv7(now),
      userId: row.id,
      email: row.email!,
      status: "pending",
      sendEmail: options.sendEmail && !row.doNotEmail,
      organizationIds: JSON.stringify(organizationIds),
      createdAt: now,
      expiresAt,
      sentCount: 1,
      lastSentAt: now,
      acceptedAt: null,
      revokedAt: null,
    };
    planned.push({ index, row, user: toUser(row, lookups.roles), invitation, organizationIds });
  }

  const write = async (created: Planned[], existingUsers: typeof existing) => {
    const { statements, pending } = statementsFor(ctx, created, existingUsers, lookups, now);
    if (statements.length > 0) await ctx.db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
    ctx.onCommit?.(pending);
  };
  try {
    await write(planned, existing);
    for (const p of planned) results[p.index] = { index: p.index, status: "created", userId: p.row.id, invitationId: p.invitation.id };
    for (const e of existing) results[e.index] = { index: e.index, status: "existing", userId: e.userId, organizationIds: e.organizationIds };
  } catch (err) {
    if (!uniqueViolation(err)) throw err;
    // A concurrent write took an email or id: apply entries one by one so only the clashing ones fail.
    for (const e of existing) {
      await write([], [e]);
      results[e.index] = { index: e.index, status: "existing", userId: e.userId, organizationIds: e.organizationIds };
    }
    for (const p of planned) {
      try {
        await write([p], []);
        results[p.index] = { index: p.index, status: "created", userId: p.row.id, invitationId: p.invitation.id };
      } catch (one) {
        if (!uniqueViolation(one)) throw one;
        fail(p.index, "conflict", [{ path: "email", message: "was taken by a concurrent request" }]);
      }
    }
  }
  const counts = { created: 0, existing: 0, failed: 0 };
  for (const r of results) counts[r.status === "error" ? "failed" : r.status] += 1;
  return { counts, results };
}
