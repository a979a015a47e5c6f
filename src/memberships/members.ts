/**
 * `/v1/<kind>/{id}/members`: listing, and explicit (source `manual`) adds and removals. Writes go
 * through the MembershipWriter like every other membership change, so they emit the same feed
 * events and bump the collection's version (a SCIM group's ETag) in the same batch.
 * Each write is two D1 round trips: one read batch (collection + users), one write batch.
 */
import { and, asc, eq, gt, inArray, isNull } from "drizzle-orm";
import { collections, memberships, users } from "../db/schema";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { ApiError, type FieldError } from "../http/errors";
import type { CoreContext } from "../core/context";
import { getCollectionRow, notFound } from "./collections";
import { KIND_INFO, type CollectionKind } from "./kinds";
import { changedRows, collectionLive, isAbortedPrecondition, MembershipWriter } from "./statements";

export const MAX_MEMBERS_PER_REQUEST = 100;

export interface Member {
  userId: string;
  email: string | null;
  displayName: string | null;
  source: "manual" | "rule";
  since: string;
}

export async function listMembers(ctx: CoreContext, kind: CollectionKind, id: string, q: { limit: number; cursor?: string }) {
  await getCollectionRow(ctx, kind, id);
  const conditions = [eq(memberships.tenantId, ctx.tenantId), eq(memberships.collectionId, id), isNull(memberships.endedAt)];
  const ordering = `m:${id}`;
  if (q.cursor) conditions.push(gt(memberships.userId, String(decodeCursor(q.cursor, ordering, 1)[0])));
  const rows = await ctx.db
    .select({
      userId: memberships.userId,
      source: memberships.source,
      startedAt: memberships.startedAt,
      email: users.email,
      displayName: users.displayName,
      firstName: users.firstName,
      lastName: users.lastName,
    })
    .from(memberships)
    .innerJoin(users, and(eq(users.tenantId, memberships.tenantId), eq(users.id, memberships.userId)))
    .where(and(...conditions))
    .orderBy(asc(memberships.userId))
    .limit(q.limit + 1)
    .all();
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  const data: Member[] = page.map((r) => ({
    userId: r.userId,
    email: r.email,
    displayName: r.displayName ?? (r.firstName !== null ? `${r.firstName} ${r.lastName ?? ""}`.trim() : null),
    source: r.source,
    since: new Date(r.startedAt).toISOString(),
  }));
  return { data, nextCursor: rows.length > q.limit && last ? encodeCursor({ o: ordering, k: [last.userId] }) : null };
}

/** The collection and the live users among `ids`, in one round trip (users chunked: D1 binds at most 100 parameters). */
async function readCollectionAndUsers(ctx: CoreContext, kind: CollectionKind, id: string, ids: string[]) {
  const collection = ctx.db
    .select()
    .from(collections)
    .where(and(eq(collections.tenantId, ctx.tenantId), eq(collections.id, id), eq(collections.kind, kind), isNull(collections.deletedAt)));
  const chunks = [];
  for (let i = 0; i < ids.length; i += 90) {
    chunks.push(
      ctx.db
        .select({ id: users.id, active: users.active })
        .from(users)
        .where(and(eq(users.tenantId, ctx.tenantId), inArray(users.id, ids.slice(i, i + 90)), isNull(users.erasedAt))),
    );
  }
  const [rows, ...found] = await ctx.db.batch([collection, ...chunks]);
  if (!rows[0]) throw notFound(kind, id);
  return { row: rows[0], users: new Map(found.flat().map((u) => [u.id, u])) };
}

async function commit(ctx: CoreContext, kind: CollectionKind, id: string, writer: MembershipWriter) {
  try {
    // The guard turns a delete that landed since the read into a 404 instead of a silent no-op.
    return await ctx.db.batch([collectionLive(ctx.db, ctx.tenantId, id), ...writer.statements()] as never) as unknown[];
  } catch (err) {
    if (isAbortedPrecondition(err)) throw notFound(kind, id);
    throw err;
  }
}

/** Adds users explicitly (source `manual`); already-current members are reported, not re-added. */
export async function addMembers(ctx: CoreContext, kind: CollectionKind, id: string, userIds: string[]) {
  const unique = [...new Set(userIds)];
  const { users: found } = await readCollectionAndUsers(ctx, kind, id, unique);
  const errors: FieldError[] = [];
  for (const u of unique) {
    const user = found.get(u);
    const path = `userIds[${userIds.indexOf(u)}]`;
    if (!user) errors.push({ path, message: `no user with id '${u}' exists in this tenant` });
    else if (KIND_INFO[kind].activeOnly && !user.active) {
      errors.push({ path, message: `user '${u}' is deactivated; only active users can join ${KIND_INFO[kind].segment} (reactivate them first)` });
    }
  }
  if (errors.length > 0) throw new ApiError("invalid_membership", errors.map((e) => `${e.path}: ${e.message}`).join("; "), { errors });
  const writer = new MembershipWriter(ctx.db, ctx.tenantId, ctx.clock.now());
  const started = writer.start([id], unique, "manual");
  const results = await commit(ctx, kind, id, writer);
  const added = new Set(changedRows(results, started, 1).map((r) => r.user_id));
  return { added: unique.filter((u) => added.has(u)), alreadyMembers: unique.filter((u) => !added.has(u)) };
}

export async function removeMembers(ctx: CoreContext, kind: CollectionKind, id: string, userIds: string[]) {
  const unique = [...new Set(userIds)];
  await getCollectionRow(ctx, kind, id);
  const writer = new MembershipWriter(ctx.db, ctx.tenantId, ctx.clock.now());
  const ended = writer.end([id], { only: unique }, "removed");
  const results = await commit(ctx, kind, id, writer);
  const removed = new Set(changedRows(results, ended, 1).map((r) => r.user_id));
  return { removed: unique.filter((u) => removed.has(u)), notMembers: unique.filter((u) => !removed.has(u)) };
}
