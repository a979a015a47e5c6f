/**
 * Collections (groups, campaigns, access groups, organizations); their members are in members.ts.
 * Every write commits its event in the same batch; a rule change is then applied to existing users
 * by the queue consumer, page by page (see effects.ts).
 */
import { and, asc, count, eq, gt, isNotNull, isNull, sql } from "drizzle-orm";
import { collections, memberships } from "../db/schema";
import { uniqueViolation } from "../db/errors";
import { insertEvent, insertEventIfPreviousChangedOneRow } from "../events/outbox";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { ApiError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import { loadAttributeSet } from "../users/attributes";
import type { CoreContext } from "../core/context";
import { KIND_INFO, KINDS, type CollectionKind, type KindInfo } from "./kinds";
import { validateRule } from "./rules";
import { MAX_RULE_COLLECTIONS } from "./effects";
import { MembershipWriter } from "./statements";

export type CollectionRow = typeof collections.$inferSelect;

export interface Collection {
  id: string;
  kind: CollectionKind;
  name: string;
  externalId: string | null;
  description: string | null;
  rule: string | null;
  /** Applying the rule to existing users: `applying`, `applied` or `failed` (re-save the rule to retry). */
  ruleStatus: "applying" | "applied" | "failed" | null;
  createdAt: string;
  updatedAt: string;
}

export function toCollection(row: CollectionRow): Collection {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    externalId: row.externalId,
    description: row.description,
    rule: row.rule,
    ruleStatus: row.ruleStatus,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

export interface CollectionInput {
  name?: string;
  externalId?: string | null;
  description?: string | null;
  rule?: string | null;
}

export function notFound(kind: CollectionKind, id: string): ApiError {
  return new ApiError("not_found", `No ${KIND_INFO[kind].label} with id '${id}' exists in this tenant.`);
}

export async function getCollectionRow(ctx: CoreContext, kind: CollectionKind, id: string): Promise<CollectionRow> {
  const row = await ctx.db
    .select()
    .from(collections)
    .where(and(eq(collections.tenantId, ctx.tenantId), eq(collections.id, id), eq(collections.kind, kind), isNull(collections.deletedAt)))
    .get();
  if (!row) throw notFound(kind, id);
  return row;
}

function conflict(err: unknown, kind: CollectionKind): ApiError | null {
  const cols = uniqueViolation(err);
  if (!cols?.startsWith("collections.")) return null;
  const field = cols.includes("external_id") ? "externalId" : "name";
  return new ApiError("conflict", `Another ${KIND_INFO[kind].label} of this tenant already has this ${field}.`, {
    errors: [{ path: field, message: `must be unique among this tenant's ${KIND_INFO[kind].segment}` }],
    extra: { field },
  });
}

async function checkRule(ctx: CoreContext, rule: string | null | undefined, hadRule: boolean): Promise<string | null | undefined> {
  if (rule === undefined || rule === null) return rule;
  const trimmed = rule.trim();
  if (trimmed === "") return null;
  validateRule(trimmed, await loadAttributeSet(ctx.db, ctx.tenantId));
  if (!hadRule) {
    // Every user change evaluates every rule: keep that number bounded (effects.ts reads at most this many).
    const n = await ctx.db
      .select({ n: count() })
      .from(collections)
      .where(and(eq(collections.tenantId, ctx.tenantId), isNotNull(collections.rule), isNull(collections.deletedAt)))
      .get();
    if ((n?.n ?? 0) >= MAX_RULE_COLLECTIONS) {
      throw new ApiError("invalid_rule", `rule: this tenant already has ${MAX_RULE_COLLECTIONS} collections with rules; remove a rule first`, {
        errors: [{ path: "rule", message: `at most ${MAX_RULE_COLLECTIONS} collections per tenant may carry a rule` }],
      });
    }
  }
  return trimmed;
}

function emitted(ctx: CoreContext, ids: string[]): void {
  ctx.onCommit?.(ids.map((id) => ({ id, tenantId: ctx.tenantId })));
}

/** A new collection's row, and the statements that insert it with its collection.created event. */
export function newCollection(
  ctx: CoreContext,
  kind: CollectionKind,
  input: { name: string; externalId: string | null; description: string | null; rule: string | null },
  now: number,
) {
  const row: CollectionRow = {
    tenantId: ctx.tenantId,
    id: uuidv7(now),
    kind,
    ...input,
    ruleVersion: input.rule ? 1 : 0,
    ruleStatus: input.rule ? "applying" : null,
    ruleAppliedAt: null,
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
  };
  const eventId = uuidv7(now);
  const statements = [
    ctx.db.insert(collections).values(row),
    insertEvent(ctx.db, {
      id: eventId,
      tenantId: ctx.tenantId,
      type: "collection.created",
      subjectId: row.id,
      data: { collection: toCollection(row), ruleVersion: row.ruleVersion, ruleChanged: row.rule !== null },
      createdAt: now,
    }),
  ] as const;
  return { row, eventId, statements };
}

export async function createCollection(ctx: CoreContext, kind: CollectionKind, input: CollectionInput & { name: string }): Promise<Collection> {
  const rule = await checkRule(ctx, input.rule, false);
  const { row, eventId, statements } = newCollection(
    ctx,
    kind,
    { name: input.name.trim(), externalId: input.externalId?.trim() || null, description: input.description ?? null, rule: rule ?? null },
    ctx.clock.now(),
  );
  try {
    await ctx.db.batch(statements);
  } catch (err) {
    throw conflict(err, kind) ?? err;
  }
  emitted(ctx, [eventId]);
  return toCollection(row);
}

export async function updateCollection(ctx: CoreContext, kind: CollectionKind, id: string, patch: CollectionInput): Promise<Collection> {
  const row = await getCollectionRow(ctx, kind, id);
  const rule = await checkRule(ctx, patch.rule, row.rule !== null);
  const next: CollectionRow = { ...row };
  if (patch.name !== undefined) next.name = patch.name.trim();
  if (patch.externalId !== undefined) next.externalId = patch.externalId?.trim() || null;
  if (patch.description !== undefined) next.description = patch.description;
  if (rule !== undefined) next.rule = rule;
  const changes: Record<string, unknown> = {};
  for (const f of ["name", "externalId", "description", "rule"] as const) if (next[f] !== row[f]) changes[f] = next[f];
  // Re-saving the same rule after a failed run starts it again.
  if (rule !== undefined && rule === row.rule && row.ruleStatus === "failed") changes.rule = rule;
  if (Object.keys(changes).length === 0) return toCollection(row);
  const ruleChanged = "rule" in changes;
  if (ruleChanged) next.ruleStatus = "applying";
  next.ruleVersion = ruleChanged ? row.ruleVersion + 1 : row.ruleVersion;
  const now = ctx.clock.now();
  const eventId = uuidv7(now);
  // Optimistic on the collection's own fields, not on updated_at: member changes bump updated_at
  // (the SCIM ETag) all the time and must not make a rename or a rule change fail.
  const unchanged = sql`${collections.name} IS ${row.name} AND ${collections.externalId} IS ${row.externalId} AND ${collections.description} IS ${row.description}
    AND ${collections.rule} IS ${row.rule} AND ${collections.ruleVersion} = ${row.ruleVersion} AND ${collections.ruleStatus} IS ${row.ruleStatus}`;
  let results;
  try {
    results = await ctx.db.batch([
      ctx.db
        .update(collections)
        .set({
          name: next.name,
          externalId: next.externalId,
          description: next.description,
          rule: next.rule,
          ruleVersion: next.ruleVersion,
          ruleStatus: next.ruleStatus,
          updatedAt: sql`max(${collections.updatedAt} + 1, ${now})`,
        })
        // A concurrent change of these fields makes this a no-op (and no event).
        .where(and(eq(collections.tenantId, ctx.tenantId), eq(collections.id, id), isNull(collections.deletedAt), unchanged))
        .returning(),
      insertEventIfPreviousChangedOneRow(ctx.db, {
        id: eventId,
        tenantId: ctx.tenantId,
        type: "collection.updated",
        subjectId: id,
        data: { changes, ruleVersion: next.ruleVersion, ruleChanged, kind },
        createdAt: now,
      }),
    ]);
  } catch (err) {
    throw conflict(err, kind) ?? err;
  }
  const updated = results[0][0];
  if (!updated) throw new ApiError("conflict", `The ${KIND_INFO[kind].label} changed while this request was applied; retry.`);
  emitted(ctx, [eventId]);
  return toCollection(updated);
}

/** Soft-deletes the collection and ends its current memberships (kept as history). */
export async function deleteCollection(ctx: CoreContext, kind: CollectionKind, id: string): Promise<void> {
  const row = await getCollectionRow(ctx, kind, id);
  const now = ctx.clock.now();
  const eventId = uuidv7(now);
  // collection.deleted stands for the end of every membership: no per-member events.
  const writer = new MembershipWriter(ctx.db, ctx.tenantId, now);
  writer.end([id], { except: [] }, "collection deleted", { events: false });
  await ctx.db.batch([
    ctx.db
      .update(collections)
      .set({ deletedAt: now, updatedAt: sql`max(${collections.updatedAt} + 1, ${now})` })
      .where(and(eq(collections.tenantId, ctx.tenantId), eq(collections.id, id), isNull(collections.deletedAt))),
    insertEventIfPreviousChangedOneRow(ctx.db, {
      id: eventId,
      tenantId: ctx.tenantId,
      type: "collection.deleted",
      subjectId: id,
      data: { collection: toCollection(row), note: "all current memberships of this collection ended" },
      createdAt: now,
      status: "processed",
    }),
    ...writer.statements(),
  ] as never);
}

export interface CollectionPage {
  data: Collection[];
  nextCursor: string | null;
}

export async function listCollections(ctx: CoreContext, kind: CollectionKind, q: { limit: number; cursor?: string }): Promise<CollectionPage> {
  const conditions = [eq(collections.tenantId, ctx.tenantId), eq(collections.kind, kind), isNull(collections.deletedAt)];
  if (q.cursor) conditions.push(gt(collections.id, String(decodeCursor(q.cursor, `c:${kind}`, 1)[0])));
  const rows = await ctx.db.select().from(collections).where(and(...conditions)).orderBy(asc(collections.id)).limit(q.limit + 1).all();
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return { data: page.map(toCollection), nextCursor: rows.length > q.limit && last ? encodeCursor({ o: `c:${kind}`, k: [last.id] }) : null };
}

/** The user's current memberships, as GET /v1/users/{id} shows them (query and mapping apart, for batching). */
export function userMembershipsQuery(ctx: CoreContext, userId: string) {
  return ctx.db
    .select({ id: collections.id, kind: collections.kind, name: collections.name, source: memberships.source, startedAt: memberships.startedAt })
    .from(memberships)
    .innerJoin(collections, and(eq(collections.tenantId, memberships.tenantId), eq(collections.id, memberships.collectionId)))
    .where(and(eq(memberships.tenantId, ctx.tenantId), eq(memberships.userId, userId), isNull(memberships.endedAt)))
    .orderBy(asc(collections.kind), asc(collections.name))
    .limit(1000);
}

export type UserMemberships = Record<KindInfo["responseKey"], Array<{ id: string; name: string; source: "manual" | "rule"; since: string }>>;

export function toUserMemberships(rows: Awaited<ReturnType<ReturnType<typeof userMembershipsQuery>["all"]>>): UserMemberships {
  const out = Object.fromEntries(KINDS.map((k) => [k.responseKey, []])) as unknown as UserMemberships;
  for (const r of rows) out[KIND_INFO[r.kind].responseKey].push({ id: r.id, name: r.name, source: r.source, since: new Date(r.startedAt).toISOString() });
  return out;
}

