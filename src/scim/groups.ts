/**
 * SCIM Groups on the collections mechanism: a SCIM Group is a collection of kind `group`, and its
 * members are the collection's current membership rows, so /Groups and /v1/groups show the same
 * memberships and every change emits the same membership.added / membership.removed feed events.
 *
 * Membership writes are set-based: each statement takes the member ids as ONE bound JSON array
 * (json_each), so a change costs index seeks per listed id and never reads the group's other members,
 * whatever the group's size, and stays under D1's 100-parameter limit. Every statement of a write is
 * guarded by the version the request read (collections.updated_at), and the last statement bumps it:
 * a write that lost a race changes nothing at all (atomic), and is retried or answered 412.
 */
import { and, eq, isNull, sql, type SQL } from "drizzle-orm";
import { batchableRun } from "../db/client";
import { uniqueViolation } from "../db/errors";
import { collections, memberships, users } from "../db/schema";
import { insertEventIfPreviousChangedOneRow } from "../events/outbox";
import { ApiError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import { getCollectionRow, newCollection, type CollectionRow } from "../memberships/collections";
import { etagOf } from "../users/model";
import type { CoreContext } from "../core/context";
import { parsePath, type PatchOperation } from "./patch";
import { CORE_GROUP } from "./schema";
import type { Json } from "./users";

/** Most member ids one request may name (the 1 MiB body limit allows about this many). */
export const MAX_MEMBERS_PER_REQUEST = 20_000;

/** Entra's legacy group schema URI, sent on create; accepted and ignored. */
export const ENTRA_LEGACY_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

export interface ScimMember {
  value: string;
  display?: string;
  $ref: string;
  type: "User";
}

/** The version of a group is its updated_at (ms), bumped by every SCIM write, member changes included. */
export function groupVersion(row: CollectionRow): number {
  return row.updatedAt;
}

export function groupLocation(baseUrl: string, id: string): string {
  return `${baseUrl}/Groups/${id}`;
}

/** The SCIM representation; `members` only when they were loaded. */
export function toScimGroup(row: CollectionRow, baseUrl: string, members?: ScimMember[]): Json {
  return {
    schemas: [CORE_GROUP],
    id: row.id,
    ...(row.externalId ? { externalId: row.externalId } : {}),
    displayName: row.name,
    ...(members ? { members } : {}),
    meta: {
      resourceType: "Group",
      created: new Date(row.createdAt).toISOString(),
      lastModified: new Date(row.updatedAt).toISOString(),
      location: groupLocation(baseUrl, row.id),
      version: etagOf(groupVersion(row)),
    },
  };
}

const displayExpr = sql<string | null>`coalesce(${users.displayName}, nullif(trim(coalesce(${users.firstName}, '') || ' ' || coalesce(${users.lastName}, '')), ''), ${users.email})`;

/** Current members of the given groups (one query for a whole page), by group id, ordered by user id. */
export async function loadMembers(ctx: CoreContext, groupIds: string[], baseUrl: string): Promise<Map<string, ScimMember[]>> {
  const out = new Map<string, ScimMember[]>(groupIds.map((id) => [id, []]));
  if (groupIds.length === 0) return out;
  const rows = await ctx.db
    .select({ groupId: memberships.collectionId, userId: memberships.userId, display: displayExpr })
    .from(memberships)
    .innerJoin(users, and(eq(users.tenantId, memberships.tenantId), eq(users.id, memberships.userId)))
    .where(
      and(
        eq(memberships.tenantId, ctx.tenantId),
        sql`${memberships.collectionId} IN (SELECT value FROM json_each(${JSON.stringify(groupIds)}))`,
        isNull(memberships.endedAt),
        isNull(users.erasedAt),
      ),
    )
    .orderBy(memberships.collectionId, memberships.userId)
    .all();
  for (const r of rows) {
    out.get(r.groupId)?.push({ value: r.userId, ...(r.display ? { display: r.display } : {}), $ref: `${baseUrl}/Users/${r.userId}`, type: "User" });
  }
  return out;
}

// ---- input ----

function invalid(path: string, message: string): ApiError {
  return new ApiError("validation_failed", `${path}: ${message}`, { errors: [{ path, message }] });
}

function displayNameOf(value: unknown, path: string): string {
  // Entra may wrap single values in a one-element array.
  const v = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (typeof v !== "string" || v.trim() === "") throw invalid(path, "is required: a non-empty string, unique among this tenant's groups");
  if (v.length > 256) throw invalid(path, "must be at most 256 characters");
  return v.trim();
}

function externalIdOf(value: unknown, path: string): string | null {
  const v = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (v === null || v === undefined || v === "") return null;
  if (typeof v !== "string") throw invalid(path, "must be a string");
  if (v.length > 256) throw invalid(path, "must be at most 256 characters");
  return v.trim() || null;
}

/** Member ids from `[{value, type?, display?, $ref?}]` (one object or bare id strings tolerated). */
export function memberIdsOf(value: unknown, path: string): string[] {
  if (value === null || value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  if (list.length > MAX_MEMBERS_PER_REQUEST) {
    throw new ApiError("too_many", `${path}: at most ${MAX_MEMBERS_PER_REQUEST} members per request; this one lists ${list.length}. Send the change in several PATCH requests.`);
  }
  return list.map((m, i) => {
    const p = `${path}[${i}]`;
    if (typeof m === "string" && m.trim() !== "") return m.trim();
    if (!m || typeof m !== "object" || Array.isArray(m)) throw invalid(p, 'must be an object {"value": "<user id>"}');
    const entries = Object.fromEntries(Object.entries(m as Json).map(([k, v]) => [k.toLowerCase(), v]));
    if (typeof entries.type === "string" && entries.type.toLowerCase() !== "user") {
      throw invalid(`${p}.type`, `'${entries.type}' members are not supported: members must be users ("type": "User"); nested groups are not supported`);
    }
    if (typeof entries.value !== "string" || entries.value.trim() === "") throw invalid(`${p}.value`, "is required: the id of a user of this tenant");
    return entries.value.trim();
  });
}

/** What one write does to a group. Members are either replaced wholesale or changed by a delta. */
export interface GroupPlan {
  name?: string;
  externalId?: string | null;
  members?: { replace: string[] } | { add: string[]; remove: string[] };
}

/** A POST/PUT body: displayName required; externalId kept when absent on PUT; members absent = unchanged. */
export function planFromResource(body: unknown, creating: boolean): GroupPlan & { name: string } {
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw new ApiError("invalid_syntax", "The body must be a SCIM Group object.", { errors: [{ path: "(body)", message: "must be a JSON object" }] });
  }
  const b = Object.fromEntries(Object.entries(body as Json).map(([k, v]) => [k.toLowerCase(), v]));
  const plan: GroupPlan & { name: string } = { name: displayNameOf(b.displayname, "displayName") };
  if ("externalid" in b && (b.externalid !== undefined || creating)) plan.externalId = externalIdOf(b.externalid, "externalId");
  // RFC 7644 §3.5.1: omitted attributes are not asserted; null or [] clears the members.
  if ("members" in b) plan.members = { replace: [...new Set(memberIdsOf(b.members, "members"))] };
  return plan;
}

/** Strips the core Group URN from an attribute name (`urn:...:Group:displayName` -> displayName). */
function bareName(key: string): string {
  const prefix = `${CORE_GROUP.toLowerCase()}:`;
  return key.toLowerCase().startsWith(prefix) ? key.slice(prefix.length) : key;
}

/** `value eq "id"` (or several joined by `or`) -> the ids; anything else cannot select members. */
function idsFromMemberFilter(f: import("../filter/parse").Filter, path: string): string[] {
  if (f.op === "or") return f.filters.flatMap((x) => idsFromMemberFilter(x, path));
  if (f.op === "eq" && f.attrPath.toLowerCase() === "value" && typeof f.compValue === "string") return [f.compValue];
  throw new ApiError("invalid_filter", `In path '${path}': members can be selected only by value, as members[value eq "<user id>"] (several joined with or).`);
}

/**
 * Reduces PATCH operations, in order, to one plan. Member changes stay deltas (add/remove sets)
 * unless an operation replaces or clears them all; either way nothing reads the current members.
 */
export function planFromPatch(ops: PatchOperation[], groupId: string): GroupPlan {
  const plan: GroupPlan = {};
  let replace: Set<string> | null = null;
  const add = new Set<string>();
  const remove = new Set<string>();
  const addIds = (ids: string[]) => {
    for (const id of ids) {
      if (replace) replace.add(id);
      else {
        add.add(id);
        remove.delete(id);
      }
    }
  };
  const removeIds = (ids: string[]) => {
    for (const id of ids) {
      if (replace) replace.delete(id);
      else {
        remove.add(id);
        add.delete(id);
      }
    }
  };
  const replaceAll = (ids: string[]) => {
    replace = new Set(ids);
    add.clear();
    remove.clear();
  };
  const setAttr = (op: PatchOperation["op"], name: string, value: unknown, where: string): boolean => {
    switch (name.toLowerCase()) {
      case "displayname":
        if (op === "remove") throw new ApiError("mutability", `${where}: displayName is required and cannot be removed; replace it instead.`);
        plan.name = displayNameOf(value, `${where}.displayName`);
        return true;
      case "externalid":
        plan.externalId = op === "remove" ? null : externalIdOf(value, `${where}.externalId`);
        return true;
      case "members":
        if (op === "add") addIds(memberIdsOf(value, `${where}.members`));
        else if (op === "replace") replaceAll(memberIdsOf(value, `${where}.members`));
        // Entra's default shape: remove with path "members" and a value list removes only those
        // listed. Without a value (RFC), every member is removed; an empty list removes nothing.
        else if (value === undefined || value === null) replaceAll([]);
        else removeIds(memberIdsOf(value, `${where}.members`));
        return true;
      default:
        return false;
    }
  };
  ops.forEach((op, i) => {
    const where = `Operations[${i}]`;
    if (!op.path) {
      // Pathless add/replace (Okta's rename sends {id, displayName}); id/schemas/meta are not written.
      for (const [key, value] of Object.entries(op.value as Json)) {
        const name = bareName(key);
        if (name.toLowerCase() === "id" && value !== groupId && value !== undefined && value !== null) {
          throw new ApiError("mutability", `${where}.value.id: id is assigned by the service and cannot change (this group is '${groupId}').`);
        }
        setAttr(op.op, name, value, `${where}.value`);
      }
      return;
    }
    const p = parsePath(op.path, [], CORE_GROUP);
    const attrName = p.attr.toLowerCase();
    if (attrName === "members" && (p.filter || p.sub)) {
      if (op.op !== "remove" || p.sub) {
        throw new ApiError("invalid_path", `${where}: '${op.path}' is not supported; use add with path "members" and a value list, or remove with members[value eq "<id>"].`);
      }
      removeIds(idsFromMemberFilter(p.filter!, op.path));
      return;
    }
    if (p.filter || p.sub) throw new ApiError("invalid_path", `${where}: '${op.path}' is single-valued; it takes no [filter] or sub-attribute.`);
    if (attrName === "id" || attrName === "meta" || attrName === "schemas") {
      throw new ApiError("mutability", `${where}: '${op.path}' is assigned by the service and cannot be changed.`);
    }
    if (!setAttr(op.op, p.attr, op.value, where)) {
      throw new ApiError("invalid_path", `${where}: Groups have no attribute '${op.path}'. Writable attributes: displayName, externalId, members.`);
    }
  });
  if (replace) plan.members = { replace: [...(replace as Set<string>)] };
  else if (add.size > 0 || remove.size > 0) plan.members = { add: [...add], remove: [...remove] };
  const total = plan.members ? ("replace" in plan.members ? plan.members.replace.length : plan.members.add.length + plan.members.remove.length) : 0;
  if (total > MAX_MEMBERS_PER_REQUEST) {
    throw new ApiError("too_many", `A request may change at most ${MAX_MEMBERS_PER_REQUEST} members; this one names ${total}. Split it.`);
  }
  return plan;
}

// ---- writing ----

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

/** A random UUID made in SQL, for rows whose number only the database knows (as in the outbox). */
const RANDOM_UUID = sql.raw(`lower(printf('%s-%s-4%s-%s%s-%s', hex(randomblob(4)), hex(randomblob(2)), substr(hex(randomblob(2)), 2),
  substr('89ab', 1 + (abs(random()) % 4), 1), substr(hex(randomblob(2)), 2), hex(randomblob(6))))`);

interface WriteScope {
  tenantId: string;
  groupId: string;
  /** The version every statement requires (the one the request read). */
  guard: SQL;
  /** {id, kind, name} as the membership events carry it. */
  collection: string;
  now: number;
}

function guardOf(tenantId: string, groupId: string, version: number): SQL {
  return sql`EXISTS (SELECT 1 FROM collections c WHERE c.tenant_id = ${tenantId} AND c.id = ${groupId} AND c.updated_at = ${version} AND c.deleted_at IS NULL)`;
}

/** Ends current memberships selected by `which` (ids listed, or all but those listed), with their events first. */
function removeStatements(ctx: CoreContext, s: WriteScope, ids: string[], which: "listed" | "unlisted") {
  const selected =
    which === "listed"
      ? sql`m.user_id IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`
      : sql`m.user_id NOT IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`;
  const current = sql`m.tenant_id = ${s.tenantId} AND m.collection_id = ${s.groupId} AND m.ended_at IS NULL AND ${selected} AND ${s.guard}`;
  return [
    batchableRun(ctx.db, sql`INSERT INTO events (id, tenant_id, type, subject_id, data, created_at, status, processed_at)
      SELECT ${RANDOM_UUID}, ${s.tenantId}, 'membership.removed', m.user_id,
             json_object('userId', m.user_id, 'collection', json(${s.collection}), 'reason', 'removed'), ${s.now}, 'processed', ${s.now}
      FROM memberships m WHERE ${current}`),
    batchableRun(ctx.db, sql`UPDATE memberships AS m SET ended_at = ${s.now}, end_reason = 'removed' WHERE ${current}`),
  ];
}

/** Starts memberships for listed live users that are not current members, with their events first. */
function addStatements(ctx: CoreContext, s: WriteScope, ids: string[]) {
  const fresh = sql`${s.guard}
    AND EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = ${s.tenantId} AND u.id = j.value AND u.erased_at IS NULL)
    AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = ${s.tenantId} AND m.collection_id = ${s.groupId} AND m.user_id = j.value AND m.ended_at IS NULL)`;
  const list = JSON.stringify(ids);
  return [
    batchableRun(ctx.db, sql`INSERT INTO events (id, tenant_id, type, subject_id, data, created_at, status, processed_at)
      SELECT ${RANDOM_UUID}, ${s.tenantId}, 'membership.added', j.value,
             json_object('userId', j.value, 'collection', json(${s.collection}), 'source', 'manual'), ${s.now}, 'processed', ${s.now}
      FROM json_each(${list}) j WHERE ${fresh}`),
    batchableRun(ctx.db, sql`INSERT INTO memberships (tenant_id, id, collection_id, user_id, source, started_at)
      SELECT ${s.tenantId}, ${RANDOM_UUID}, ${s.groupId}, j.value, 'manual', ${s.now} FROM json_each(${list}) j WHERE ${fresh}`),
  ];
}

function memberStatements(ctx: CoreContext, s: WriteScope, members: GroupPlan["members"]) {
  if (!members) return [];
  if ("replace" in members) return [...removeStatements(ctx, s, members.replace, "unlisted"), ...(members.replace.length > 0 ? addStatements(ctx, s, members.replace) : [])];
  return [...(members.remove.length > 0 ? removeStatements(ctx, s, members.remove, "listed") : []), ...(members.add.length > 0 ? addStatements(ctx, s, members.add) : [])];
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

/** POST /Groups: the group, its collection.created event and its members in one batch. */
export async function createGroup(ctx: CoreContext, plan: GroupPlan & { name: string }): Promise<CollectionRow> {
  await checkMembers(ctx, plan);
  const now = Date.now();
  const { row, eventId, statements } = newCollection(ctx, "group", { name: plan.name, externalId: plan.externalId ?? null, description: null, rule: null }, now);
  const scope: WriteScope = {
    tenantId: ctx.tenantId,
    groupId: row.id,
    guard: guardOf(ctx.tenantId, row.id, now),
    collection: JSON.stringify({ id: row.id, kind: "group", name: row.name }),
    now,
  };
  try {
    await ctx.db.batch([...statements, ...memberStatements(ctx, scope, plan.members)] as never);
  } catch (err) {
    throw conflictError(err) ?? err;
  }
  emitted(ctx, [eventId]);
  return row;
}

export function getGroupRow(ctx: CoreContext, id: string): Promise<CollectionRow> {
  return getCollectionRow(ctx, "group", id);
}

const MAX_WRITE_ATTEMPTS = 8;

/**
 * Applies a plan to a group: every statement guarded by the version read, the version bump last.
 * `ifMatch` (from If-Match) pins the version; otherwise a lost race re-reads and re-applies.
 */
export async function writeGroup(
  ctx: CoreContext,
  id: string,
  makePlan: (row: CollectionRow) => GroupPlan,
  ifMatch?: (row: CollectionRow) => number | undefined,
): Promise<CollectionRow> {
  for (let attempt = 1; ; attempt++) {
    const row = await getGroupRow(ctx, id);
    const pinned = ifMatch?.(row);
    const plan = makePlan(row);
    if (plan.name === undefined && plan.externalId === undefined && !plan.members) return row;
    await checkMembers(ctx, plan);
    const next: CollectionRow = { ...row };
    if (plan.name !== undefined) next.name = plan.name;
    if (plan.externalId !== undefined) next.externalId = plan.externalId;
    next.updatedAt = Math.max(Date.now(), row.updatedAt + 1);
    const changes: Record<string, unknown> = {};
    if (next.name !== row.name) changes.name = next.name;
    if (next.externalId !== row.externalId) changes.externalId = next.externalId;
    const scope: WriteScope = {
      tenantId: ctx.tenantId,
      groupId: id,
      guard: guardOf(ctx.tenantId, id, row.updatedAt),
      collection: JSON.stringify({ id, kind: "group", name: next.name }),
      now: next.updatedAt,
    };
    const statements = memberStatements(ctx, scope, plan.members);
    const eventId = uuidv7(next.updatedAt);
    const hasChanges = Object.keys(changes).length > 0;
    let results: D1Result[];
    try {
      results = (await ctx.db.batch([
        ...statements,
        // Last: the version bump, which is what tells whether the guarded statements applied.
        ctx.db
          .update(collections)
          .set({ name: next.name, externalId: next.externalId, updatedAt: next.updatedAt })
          .where(and(eq(collections.tenantId, ctx.tenantId), eq(collections.id, id), eq(collections.updatedAt, row.updatedAt), isNull(collections.deletedAt))),
        ...(hasChanges
          ? [
              insertEventIfPreviousChangedOneRow(ctx.db, {
                id: eventId,
                tenantId: ctx.tenantId,
                type: "collection.updated",
                subjectId: id,
                data: { changes, ruleVersion: row.ruleVersion, ruleChanged: false, kind: "group" },
                createdAt: next.updatedAt,
              }),
            ]
          : []),
      ] as never)) as unknown as D1Result[];
    } catch (err) {
      throw conflictError(err) ?? err;
    }
    if (results[statements.length]!.meta.changes === 1) {
      if (hasChanges) emitted(ctx, [eventId]);
      return next;
    }
    if (pinned !== undefined) throw new ApiError("precondition_failed", "The group changed while this request was applied. GET it again and retry.");
    if (attempt >= MAX_WRITE_ATTEMPTS) throw new ApiError("conflict", "The group is being changed by other requests right now; retry shortly.");
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
  }
}
