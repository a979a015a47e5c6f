/**
 * A SCIM user's folders (PROVISIONING_USER `folders: [{value, display}]`). Folders are collections
 * of kind `folder`; over SCIM, as over REST (`folders: [ids]`), a change asks for the complete set
 * of the user's manual folder memberships, travels in the user's event and is applied by the
 * consumer through the MembershipWriter (memberships/effects.ts), with the same rules. What SCIM
 * adds is checking the ids before anything is written: an unknown folder, or another tenant's, is
 * a 400 naming the attribute, not a failed provisioning later (SCIM has no `provisioning` to show).
 *
 * Reads ride in the request's one read batch: the user's current folders, and the folders the body
 * names (hinted from the raw body, as managers are), so a write stays at two round trips.
 */
import { and, asc, eq, inArray, isNull, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { collections, memberships } from "../db/schema";
import type { CoreContext } from "../core/context";
import { ApiError, type FieldError } from "../http/errors";
import { MAX_IDS_PER_KIND } from "../memberships/kinds";
import { PROVISIONING_USER } from "./schema";
import type { Json } from "./users";

export const FOLDERS_PATH = `${PROVISIONING_USER}:folders`;

export interface FolderRef {
  value: string;
  display: string;
  source: "manual" | "rule";
}

/** The current folders of the users `userIds` selects (an id list or a subquery of ids). */
export function userFoldersQuery(ctx: CoreContext, userIds: string[] | SQL) {
  const who = Array.isArray(userIds) ? inArray(memberships.userId, userIds) : sql`${memberships.userId} IN ${userIds}`;
  return ctx.db
    .select({ userId: memberships.userId, value: collections.id, display: collections.name, source: memberships.source })
    .from(memberships)
    .innerJoin(collections, and(eq(collections.tenantId, memberships.tenantId), eq(collections.id, memberships.collectionId)))
    .where(and(eq(memberships.tenantId, ctx.tenantId), who, isNull(memberships.endedAt), eq(collections.kind, "folder"), isNull(collections.deletedAt)))
    .orderBy(asc(collections.name), asc(collections.id));
}

export type FolderRow = Awaited<ReturnType<ReturnType<typeof userFoldersQuery>["all"]>>[number];

/** Rows grouped per user, in display order. */
export function foldersByUser(rows: FolderRow[]): Map<string, FolderRef[]> {
  const out = new Map<string, FolderRef[]>();
  for (const r of rows) {
    const list = out.get(r.userId) ?? [];
    list.push({ value: r.value, display: r.display, source: r.source });
    out.set(r.userId, list);
  }
  return out;
}

/** Which of `ids` are live folders of the tenant (ids bound as one JSON array: one parameter). */
export function liveFoldersQuery(ctx: CoreContext, ids: string[]) {
  return ctx.db
    .select({ value: collections.id, display: collections.name })
    .from(collections)
    .where(and(eq(collections.tenantId, ctx.tenantId), eq(collections.kind, "folder"), isNull(collections.deletedAt), sql`${collections.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`));
}

const MAX_HINTS = MAX_IDS_PER_KIND + 10;
const MAX_DEPTH = 8;

/** Strings and `{value}`s of a value (a list, one object, a bare id). */
function idsIn(value: unknown, out: Set<string>): void {
  for (const v of Array.isArray(value) ? value : [value]) {
    if (typeof v === "string") out.add(v);
    else if (v && typeof v === "object" && typeof (v as Json).value === "string") out.add((v as Json).value as string);
  }
}

/**
 * Folder ids a SCIM body may name: values under a `folders` key, PATCH values on a folders path,
 * and the value in a `folders[value eq "..."]` filter. A hint only saves a round trip.
 */
export function folderHints(body: unknown, out = new Set<string>(), depth = 0): Set<string> {
  if (depth > MAX_DEPTH || out.size >= MAX_HINTS || !body || typeof body !== "object") return out;
  if (Array.isArray(body)) {
    for (const item of body) folderHints(item, out, depth + 1);
    return out;
  }
  const o = body as Json;
  if (typeof o.path === "string" && /folders/i.test(o.path)) {
    idsIn(o.value, out);
    for (const m of o.path.matchAll(/"([^"]*)"/g)) out.add(m[1]!);
  }
  for (const [key, value] of Object.entries(o)) {
    if (/folders$/i.test(key)) idsIn(value, out);
    if (value && typeof value === "object") folderHints(value, out, depth + 1);
  }
  return out;
}

/** What a SCIM user write knows about folders after its read batch. */
export interface FolderState {
  /** The user's current folders (none for a create). */
  current: FolderRef[];
  /** Live folders of the tenant by id: the current ones and those the body names. */
  known: Map<string, string>;
  /** Ids that were asked about: a miss among them is a definite "no such folder". */
  asked: Set<string>;
}

/** The queries a write adds to its read batch, and how to read their results back. */
export function folderReads(ctx: CoreContext, userId: string | undefined, body: unknown) {
  const hints = [...folderHints(body)].slice(0, MAX_HINTS);
  const queries: BatchItem<"sqlite">[] = [];
  if (userId !== undefined) queries.push(userFoldersQuery(ctx, [userId]));
  if (hints.length > 0) queries.push(liveFoldersQuery(ctx, hints));
  const read = (results: unknown[]): FolderState => {
    let i = 0;
    const current = userId !== undefined ? (foldersByUser(results[i++] as FolderRow[]).get(userId) ?? []) : [];
    const live = hints.length > 0 ? (results[i++] as { value: string; display: string }[]) : [];
    const known = new Map([...current.map((f) => [f.value, f.display] as const), ...live.map((f) => [f.value, f.display] as const)]);
    return { current, known, asked: new Set(hints) };
  };
  return { queries, read };
}

/** The folder ids a canonical SCIM user carries, or undefined when it does not carry the attribute. */
export function foldersOf(user: Json): string[] | undefined {
  const ext = user[PROVISIONING_USER] as Json | undefined;
  const list = ext?.folders;
  if (!Array.isArray(list)) return undefined;
  return [...new Set((list as Json[]).map((f) => f.value).filter((v): v is string => typeof v === "string"))];
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && new Set([...a, ...b]).size === a.length;

/**
 * The folder request of a write: the complete list when it differs from the current folders, else
 * undefined (nothing to ask the consumer for). Every id must be a live folder of this tenant; ids
 * the hints missed are checked with one more query (a round trip only bodies of unusual shape pay).
 */
export async function folderRequest(ctx: CoreContext, state: FolderState, wanted: string[] | undefined): Promise<string[] | undefined> {
  if (wanted === undefined || sameSet(wanted, state.current.map((f) => f.value))) return undefined;
  const errors: FieldError[] = [];
  if (wanted.length > MAX_IDS_PER_KIND) errors.push({ path: FOLDERS_PATH, message: `must list at most ${MAX_IDS_PER_KIND} folders` });
  const unasked = wanted.filter((id) => !state.known.has(id) && !state.asked.has(id));
  if (errors.length === 0 && unasked.length > 0) {
    for (const f of await liveFoldersQuery(ctx, unasked).all()) state.known.set(f.value, f.display);
  }
  if (errors.length === 0) {
    for (const id of wanted) {
      if (!state.known.has(id)) errors.push({ path: FOLDERS_PATH, message: `no folder with id '${id}' exists in this tenant (GET /v1/folders lists them)` });
    }
  }
  if (errors.length > 0) throw new ApiError("validation_failed", errors.map((e) => `${e.path}: ${e.message}`).join("; "), { errors });
  return wanted;
}

/**
 * The folders a write's response shows: with a request, the requested ones plus those a rule
 * grants (the consumer keeps rule memberships); without one, the current folders. Display order.
 */
export function foldersAfter(state: FolderState, requested: string[] | undefined): FolderRef[] {
  if (requested === undefined) return state.current;
  const byRule = state.current.filter((f) => f.source === "rule");
  const manual = requested.filter((id) => !byRule.some((f) => f.value === id)).map((id) => ({ value: id, display: state.known.get(id) ?? "", source: "manual" as const }));
  // Binary order, as SQLite sorts the reads (userFoldersQuery).
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return [...byRule, ...manual].sort((a, b) => cmp(a.display, b.display) || cmp(a.value, b.value));
}
