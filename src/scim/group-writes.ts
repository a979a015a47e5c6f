/**
 * Committing SCIM group writes. A write is one read (the group, to check If-Match and render), one
 * check of the listed users, and ONE D1 batch: a guard, the rename (with its collection.updated
 * event computed in SQL from the row it changes), the member changes through the one membership
 * writer (which bumps the version), and the resulting row read back.
 *
 * Optimistic semantics:
 *  - with If-Match, the guard requires the version the client named; a change from anywhere (SCIM,
 *    /v1 members, rules, the consumer) that landed since aborts the whole batch: 412;
 *  - without If-Match nothing in the batch depends on what was read (member changes are set-based,
 *    the rename's event diff is computed from the row it updates), so the batch applies as it is,
 *    to whatever state it meets: concurrent writers never fail because of each other, and no write
 *    is retried.
 */
import { actorJsonOf } from "../audit/actor";
import { and, eq, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { batchableRun } from "../db/client";
import { uniqueViolation } from "../db/errors";
import { collections } from "../db/schema";
import { ApiError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import type { CoreContext } from "../core/context";
import { getCollectionRow, newCollection, type CollectionRow } from "../memberships/collections";
import { collectionLive, isAbortedPrecondition, MembershipWriter } from "../memberships/statements";
import type { GroupPlan } from "./groups";

/** Ids among `ids` that are not live users of the tenant: one statement, whatever the list size. */
async function unknownUsers(ctx: CoreContext, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await ctx.db.all<{ id: string }>(sql`SELECT j.value AS id FROM json_each(${JSON.stringify(ids)}) j
    WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = ${ctx.tenantId} AND u.id = j.value AND u.erased_at IS NULL)`);
  return rows.map((r) => r.id);
}

async function checkMembers(ctx: CoreContext, plan: GroupPlan): Promise<void> {
  const ids = plan.members ? ("replace" in plan.members ? plan.members.replace : plan.members.add) : [];
  const unknown = await unknownUsers(ctx, ids);
  if (unknown.length === 0) return;
  const shown = unknown.slice(0, 20);
  const more = unknown.length > shown.length ? ` and ${unknown.length - shown.length} more` : "";
  throw new ApiError("invalid_membership", `members: no user with id ${shown.map((id) => `'${id}'`).join(", ")}${more} exists in this tenant; nothing was changed. Create the users first or remove them from the request.`, {
    errors: shown.map((id) => ({ path: "members", message: `no user with id '${id}' exists in this tenant` })),
    extra: { unknownMembers: shown },
  });
}

function conflictError(err: unknown): ApiError | null {
  const cols = uniqueViolation(err);
  if (!cols?.startsWith("collections.")) return null;
  const field = cols.includes("external_id") ? "externalId" : "displayName";
  return new ApiError("conflict", `Another group of this tenant already has this ${field}.`, {
    errors: [{ path: field, message: "must be unique among this tenant's groups" }],
    extra: { field },
  });
}

function emitted(ctx: CoreContext, ids: string[]): void {
  ctx.onCommit?.(ids.map((id) => ({ id, tenantId: ctx.tenantId })));
}

/** Member changes of a plan, in order: a replace ends the unlisted members, then starts the listed. */
function writeMembers(writer: MembershipWriter, groupId: string, members: GroupPlan["members"]): void {
  if (!members) return;
  if ("replace" in members) {
    writer.end([groupId], { except: members.replace }, "removed");
    writer.start([groupId], members.replace, "manual");
  } else {
    writer.end([groupId], { only: members.remove }, "removed");
    writer.start([groupId], members.add, "manual");
  }
}

/** The group row as the batch left it (the last statement of every write). */
function readBack(ctx: CoreContext, id: string) {
  return ctx.db.select().from(collections).where(and(eq(collections.tenantId, ctx.tenantId), eq(collections.id, id)));
}

/** POST /Groups: the group, its collection.created event and its members in one batch. */
export async function createGroup(ctx: CoreContext, plan: GroupPlan & { name: string }): Promise<CollectionRow> {
  await checkMembers(ctx, plan);
  const now = ctx.clock.now();
  const { row, eventId, statements } = newCollection(ctx, "group", { name: plan.name, externalId: plan.externalId ?? null, description: null, rule: null }, now);
  const writer = new MembershipWriter(ctx.db, ctx.tenantId, now);
  if (plan.members) writer.start([row.id], "replace" in plan.members ? plan.members.replace : plan.members.add, "manual");
  let results: unknown[];
  try {
    results = await ctx.db.batch([...statements, ...writer.statements(), readBack(ctx, row.id)] as never);
  } catch (err) {
    throw conflictError(err) ?? err;
  }
  emitted(ctx, [eventId]);
  return (results[results.length - 1] as CollectionRow[])[0] ?? row;
}

export function getGroupRow(ctx: CoreContext, id: string): Promise<CollectionRow> {
  return getCollectionRow(ctx, "group", id);
}

/**
 * The rename, if the plan has one: collection.updated (pending, for the feed and the queue) with the
 * fields that really change, then the update, both only when something differs from the row as the
 * batch finds it. The update is second-to-last of the pair so its result tells whether it applied.
 */
function renameStatements(ctx: CoreContext, id: string, plan: GroupPlan, eventId: string, now: number): BatchItem<"sqlite">[] {
  const fields: Array<[string, SQL, string | null | undefined]> = [
    ["name", sql.raw("name"), plan.name],
    ["externalId", sql.raw("external_id"), plan.externalId],
  ];
  const set = fields.filter(([, , v]) => v !== undefined) as Array<[string, SQL, string | null]>;
  if (set.length === 0) return [];
  const differs = sql.join(set.map(([, col, v]) => sql`${col} IS NOT ${v}`), sql` OR `);
  // Every field set, minus those already at their value: exactly what the update changes.
  const changes = sql`json_remove(json_object(${sql.join(set.map(([key, , v]) => sql`${key}, ${v}`), sql`, `)}),
    ${sql.join(set.map(([key, col, v]) => sql`CASE WHEN ${col} IS ${v} THEN ${`$.${key}`} ELSE '$.__unchanged' END`), sql`, `)})`;
  const target = sql`tenant_id = ${ctx.tenantId} AND id = ${id} AND deleted_at IS NULL AND (${differs})`;
  return [
    batchableRun(ctx.db, sql`INSERT INTO events (id, tenant_id, type, subject_id, data, created_at, status, actor)
      SELECT ${eventId}, ${ctx.tenantId}, 'collection.updated', id,
             json_object('changes', json(${changes}), 'ruleVersion', rule_version, 'ruleChanged', json('false'), 'kind', kind), ${now}, 'pending', ${actorJsonOf(ctx.db)}
      FROM collections WHERE ${target}`),
    batchableRun(ctx.db, sql`UPDATE collections SET ${sql.join(set.map(([, col, v]) => sql`${col} = ${v}`), sql`, `)},
      updated_at = max(updated_at + 1, ${now}) WHERE ${target}`),
  ];
}

/**
 * Applies a plan to a group in one batch. `ifMatch` (from If-Match) checks the version read and
 * pins the batch to it; without it the batch applies to whatever state it meets (see the top).
 */
export async function writeGroup(
  ctx: CoreContext,
  id: string,
  makePlan: (row: CollectionRow) => GroupPlan,
  ifMatch?: (row: CollectionRow) => number | undefined,
): Promise<CollectionRow> {
  const row = await getGroupRow(ctx, id);
  const pinned = ifMatch?.(row);
  const plan = makePlan(row);
  if (plan.name === undefined && plan.externalId === undefined && !plan.members) return row;
  await checkMembers(ctx, plan);
  const now = ctx.clock.now();
  const eventId = uuidv7(now);
  const rename = renameStatements(ctx, id, plan, eventId, now);
  const writer = new MembershipWriter(ctx.db, ctx.tenantId, now);
  writeMembers(writer, id, plan.members);
  let results: unknown[];
  try {
    results = await ctx.db.batch([collectionLive(ctx.db, ctx.tenantId, id, pinned), ...rename, ...writer.statements(), readBack(ctx, id)] as never);
  } catch (err) {
    if (isAbortedPrecondition(err)) {
      await getGroupRow(ctx, id); // deleted meanwhile: 404
      throw new ApiError("precondition_failed", "The group changed while this request was applied. GET it again and retry.");
    }
    throw conflictError(err) ?? err;
  }
  if (rename.length > 0 && (results[rename.length] as D1Result).meta.changes === 1) emitted(ctx, [eventId]);
  const next = (results[results.length - 1] as CollectionRow[])[0];
  if (!next) throw new ApiError("not_found", `No group with id '${id}' exists in this tenant.`);
  return next;
}
