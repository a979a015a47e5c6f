/**
 * The invitation lifecycle after the bulk request: listing and reading invitations, and the
 * resend / revoke / accept transitions, each one D1 batch that changes the invitation, the user
 * where it changes, and writes the events. Separate from ./bulk.ts, which only creates them.
 */
import { actorJsonOf } from "../audit/actor";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { CoreContext } from "../core/context";
import { events, invitations, users } from "../db/schema";
import type { TypedEvent } from "../events/catalogue";
import type { OutboxRef } from "../events/dispatch";
import { ApiError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import { toUser, type UserRow } from "../users/model";
import { readForWrite } from "../users/service";
import { DAY_MS, DEFAULT_INVITATION_DAYS, mailerPayload, type InvitationRow } from "./model";

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
  user: { set: Partial<UserRow>; event?: TypedEvent<"user.deactivated" | "user.updated"> } | null,
  feed: TypedEvent<"invitation.resent" | "invitation.revoked" | "invitation.accepted">,
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
