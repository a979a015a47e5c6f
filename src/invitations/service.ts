/**
 * Bulk invitations: up to 1,000 people in one request, each succeeding or failing on its own.
 * Every entry is validated by the users core (buildNewUser) against lookups read once; uniqueness,
 * managers and organizations are checked with chunked IN queries; all accepted entries are then
 * written in one D1 batch of multi-row inserts (each under D1's 100 bound parameters). If that
 * batch fails (a concurrent write took an email), entries are retried one batch each, so a failed
 * entry never leaves a partial user behind.
 */
import { actorJsonOf } from "../audit/actor";
import { and, eq, getTableColumns, inArray, isNull, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { uniqueViolation } from "../db/errors";
import { collections, events, invitations, userProvisioning, users } from "../db/schema";
import type { OutboxRef } from "../events/dispatch";
import type { EventType } from "../events/outbox";
import { ApiError, type FieldError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import { toUser, type User, type UserFields, type UserRow } from "../users/model";
import type { CoreContext } from "../core/context";
import { buildNewUser, readForWrite, type UserLookups } from "../users/service";

export const MAX_INVITATIONS_PER_REQUEST = 1000;
export const DEFAULT_INVITATION_DAYS = 14;
const DAY_MS = 24 * 60 * 60 * 1000;
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

type InvitationRow = typeof invitations.$inferSelect;

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

/** What a mailer needs, carried by invitation.created / invitation.resent. */
function mailerPayload(user: User, invitation: InvitationRow, lookups: UserLookups) {
  const idp = lookups.identityProviders.find((i) => i.id === user.identityProviderId);
  return {
    invitationId: invitation.id,
    userId: user.id,
    email: user.email,
    firstName: user.firstName,
    lastName: user.lastName,
    displayName: user.displayName,
    locale: user.locale,
    role: user.role,
    identityProvider: idp ? { id: idp.id, name: idp.name } : null,
    organizationIds: JSON.parse(invitation.organizationIds) as string[],
    sendEmail: invitation.sendEmail,
    expiresAt: new Date(invitation.expiresAt).toISOString(),
  };
}

interface Planned {
  index: number;
  row: UserRow;
  user: User;
  invitation: InvitationRow;
  organizationIds: string[];
}

interface EventRow {
  id: string;
  tenantId: string;
  type: EventType;
  subjectId: string;
  data: string;
  createdAt: number;
  status: "pending" | "processed";
  processedAt: number | null;
  actor: string;
}

function statementsFor(ctx: CoreContext, created: Planned[], existing: { userId: string; organizationIds: string[] }[], lookups: UserLookups, now: number) {
  const eventRows: EventRow[] = [];
  const provisioning: (typeof userProvisioning.$inferInsert)[] = [];
  const pending: OutboxRef[] = [];
  const event = (type: EventType, subjectId: string, data: unknown, status: "pending" | "processed") => {
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

export async function inviteUsers(ctx: CoreContext, entries: Array<InviteEntry | { invalid: FieldError[] }>, options: InviteOptions) {
  if (entries.length > MAX_INVITATIONS_PER_REQUEST) {
    throw new ApiError("validation_failed", `users: at most ${MAX_INVITATIONS_PER_REQUEST} per request; split the list`, {
      errors: [{ path: "users", message: `must hold at most ${MAX_INVITATIONS_PER_REQUEST} entries` }],
    });
  }
  const now = ctx.clock.now();
  const expiresAt = now + (options.expiresInDays ?? DEFAULT_INVITATION_DAYS) * DAY_MS;
  const results: InviteResult[] = new Array(entries.length);
  const fail = (index: number, code: string, errors: FieldError[]) => {
    results[index] = { index, status: "error", code, errors: errors.map((e) => ({ path: `users[${index}].${e.path}`, message: e.message })) };
  };

  const valid: Array<{ index: number; entry: InviteEntry }> = [];
  entries.forEach((entry, index) => ("invalid" in entry ? fail(index, "validation_failed", entry.invalid) : valid.push({ index, entry })));

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

  const existing: Array<{ index: number; userId: string; organizationIds: string[] }> = [];
  const candidates: Array<{ index: number; entry: InviteEntry; row: UserRow }> = [];
  for (const { index, entry } of valid) {
    const organizationIds = [...new Set(entry.organizationIds ?? [])];
    const unknownOrgs = organizationIds.filter((id) => !orgs.has(id));
    const orgErrors = unknownOrgs.map((id) => ({ path: `organizationIds[${(entry.organizationIds ?? []).indexOf(id)}]`, message: `no organization with id '${id}' exists in this tenant` }));
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
      if (earlier !== undefined) errors.push({ path: field, message: `duplicates users[${earlier}] in this request` });
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
    const organizationIds = [...new Set(entry.organizationIds ?? [])];
    const invitation: InvitationRow = {
      tenantId: ctx.tenantId,
      id: uuidv7(now),
      userId: row.id,
      email: row.email!,
      status: "pending",
      sendEmail: options.sendEmail,
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

// ---- Lifecycle ----

export type InvitationStatus = "pending" | "accepted" | "revoked" | "expired";

export function invitationView(row: InvitationRow, now = Date.now()) {
  const status: InvitationStatus = row.status === "pending" && row.expiresAt <= now ? "expired" : row.status;
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: row.id,
    userId: row.userId,
    email: row.email,
    status,
    sendEmail: row.sendEmail,
    organizationIds: JSON.parse(row.organizationIds) as string[],
    createdAt: iso(row.createdAt)!,
    expiresAt: iso(row.expiresAt)!,
    sentCount: row.sentCount,
    lastSentAt: iso(row.lastSentAt)!,
    acceptedAt: iso(row.acceptedAt),
    revokedAt: iso(row.revokedAt),
  };
}


export async function listInvitations(ctx: CoreContext, q: { status?: InvitationStatus; after?: string; limit: number }) {
  const now = ctx.clock.now();
  const conditions = [eq(invitations.tenantId, ctx.tenantId)];
  if (q.status === "expired") conditions.push(eq(invitations.status, "pending"), sql`${invitations.expiresAt} <= ${now}`);
  else if (q.status === "pending") conditions.push(eq(invitations.status, "pending"), sql`${invitations.expiresAt} > ${now}`);
  else if (q.status) conditions.push(eq(invitations.status, q.status));
  if (q.after) conditions.push(sql`${invitations.id} > ${q.after}`);
  const rows = await ctx.db.select().from(invitations).where(and(...conditions)).orderBy(invitations.id).limit(q.limit + 1).all();
  return { rows: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
}

function conflict(detail: string): ApiError {
  return new ApiError("conflict", detail, { errors: [{ path: "status", message: detail }] });
}

function notFound(id: string): ApiError {
  return new ApiError("not_found", `No invitation with id '${id}' exists in this tenant.`);
}

/**
 * The read batch of a lifecycle change: the invitation and its user (found through the
 * invitation, so both come back in one round trip), plus what a mailer payload needs.
 */
async function readInvitation(ctx: CoreContext, id: string) {
  const userOfInvitation = ctx.db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, ctx.tenantId), sql`${users.id} = (SELECT user_id FROM invitations WHERE tenant_id = ${ctx.tenantId} AND id = ${id})`));
  const invitationQuery = ctx.db.select().from(invitations).where(and(eq(invitations.tenantId, ctx.tenantId), eq(invitations.id, id)));
  const reads = await readForWrite(ctx, { extra: [invitationQuery, userOfInvitation] });
  const [invitationRows, userRows] = reads.extra as [InvitationRow[], UserRow[]];
  const row = invitationRows[0];
  if (!row) throw notFound(id);
  return { row, userRow: userRows[0], lookups: reads.lookups };
}

/**
 * Writes an invitation transition with its event(s) and, where it changes, the user: one batch.
 * The user's version is bumped, so an optimistic writer racing it re-applies on top (update.ts).
 */
async function transition(
  ctx: CoreContext,
  row: InvitationRow,
  change: Partial<InvitationRow>,
  user: { set: Partial<UserRow>; event?: { type: EventType; data: Record<string, unknown> } } | null,
  feed: { type: EventType; data: Record<string, unknown> },
): Promise<InvitationRow> {
  const now = ctx.clock.now();
  const statements: BatchItem<"sqlite">[] = [
    ctx.db.update(invitations).set(change).where(and(eq(invitations.tenantId, ctx.tenantId), eq(invitations.id, row.id), eq(invitations.status, row.status))),
  ];
  const pending: OutboxRef[] = [];
  if (user) {
    statements.push(
      ctx.db
        .update(users)
        .set({ ...user.set, version: sql`${users.version} + 1`, updatedAt: now })
        .where(and(eq(users.tenantId, ctx.tenantId), eq(users.id, row.userId), isNull(users.erasedAt))),
    );
    if (user.event) {
      const id = uuidv7(now);
      statements.push(ctx.db.insert(events).values({ id, tenantId: ctx.tenantId, type: user.event.type, subjectId: row.userId, data: JSON.stringify(user.event.data), createdAt: now, actor: actorJsonOf(ctx.db) }));
      pending.push({ id, tenantId: ctx.tenantId });
    }
  }
  statements.push(
    ctx.db.insert(events).values({ id: uuidv7(now), tenantId: ctx.tenantId, type: feed.type, subjectId: row.userId, data: JSON.stringify(feed.data), createdAt: now, status: "processed", processedAt: now, actor: actorJsonOf(ctx.db) }),
  );
  const [result] = await ctx.db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  if ((result as D1Result).meta.changes !== 1) throw conflict("The invitation changed while this request was being applied; fetch it again.");
  ctx.onCommit?.(pending);
  return { ...row, ...change };
}

export async function getInvitation(ctx: CoreContext, id: string): Promise<InvitationRow> {
  const row = await ctx.db.select().from(invitations).where(and(eq(invitations.tenantId, ctx.tenantId), eq(invitations.id, id))).get();
  if (!row) throw notFound(id);
  return row;
}

export async function resendInvitation(ctx: CoreContext, id: string, expiresInDays = DEFAULT_INVITATION_DAYS) {
  const { row, userRow, lookups } = await readInvitation(ctx, id);
  if (row.status !== "pending") throw conflict(`The invitation is ${row.status}; only pending or expired invitations can be resent.`);
  const now = ctx.clock.now();
  const expiresAt = now + expiresInDays * DAY_MS;
  if (!userRow || userRow.erasedAt !== null) throw conflict("The invited user no longer exists; revoke the invitation.");
  const next = { ...row, expiresAt, sentCount: row.sentCount + 1, lastSentAt: now };
  return transition(
    ctx,
    row,
    { expiresAt, sentCount: next.sentCount, lastSentAt: now },
    { set: { invitationExpiresAt: expiresAt } },
    { type: "invitation.resent", data: mailerPayload(toUser({ ...userRow, invitationExpiresAt: expiresAt }, lookups.roles), next, lookups) },
  );
}

/** Revoking also deactivates the user, who never joined (its memberships end through the queue). */
export async function revokeInvitation(ctx: CoreContext, id: string) {
  const { row } = await readInvitation(ctx, id);
  if (row.status !== "pending") throw conflict(`The invitation is already ${row.status}.`);
  const now = ctx.clock.now();
  return transition(
    ctx,
    row,
    { status: "revoked", revokedAt: now },
    { set: { active: false, invitationExpiresAt: null }, event: { type: "user.deactivated", data: { changes: { active: false }, reason: "invitation revoked" } } },
    { type: "invitation.revoked", data: { invitationId: row.id, userId: row.userId } },
  );
}

/** Called by the platform's sign-up flow when the invitee accepts. */
export async function acceptInvitation(ctx: CoreContext, id: string) {
  const { row } = await readInvitation(ctx, id);
  const now = ctx.clock.now();
  if (row.status !== "pending") throw conflict(`The invitation is ${row.status}.`);
  if (row.expiresAt <= now) throw conflict("The invitation has expired; resend it (POST /v1/invitations/{id}/resend) first.");
  return transition(
    ctx,
    row,
    { status: "accepted", acceptedAt: now },
    { set: { status: "active", invitationExpiresAt: null }, event: { type: "user.updated", data: { changes: { status: "active" } } } },
    { type: "invitation.accepted", data: { invitationId: row.id, userId: row.userId } },
  );
}
