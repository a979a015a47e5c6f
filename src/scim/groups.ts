/**
 * SCIM Groups on the collections mechanism: a SCIM Group is a collection of kind `group`, and its
 * members are the collection's current membership rows, so /Groups and /v1/groups show the same
 * memberships and every change emits the same membership.added / membership.removed feed events.
 *
 * This file parses and renders; group-writes.ts commits. Member changes go through the one
 * membership writer (memberships/statements.ts), like /v1 and the queue consumer, so every member
 * change, wherever it comes from, bumps the group's version (its ETag and meta.lastModified).
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import type { CoreContext } from "../core/context";
import { memberships, users } from "../db/schema";
import { ApiError } from "../http/errors";
import type { CollectionRow } from "../memberships/collections";
import { etagOf } from "../users/model";
import { parsePath, type PatchOperation } from "./patch-parse";
import { CORE_GROUP } from "./schema";
import type { Json } from "./users";

/** Most member ids one request may name (the 1 MiB body limit allows about this many). */
export const MAX_MEMBERS_PER_REQUEST = 20_000;

export interface ScimMember {
  value: string;
  display?: string;
  $ref: string;
  type: "User";
}

/** The version of a group is its updated_at (ms), bumped by every change of the group or its members, from any API. */
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

// ---- writing: see group-writes.ts ----

export { createGroup, getGroupRow, writeGroup } from "./group-writes";
