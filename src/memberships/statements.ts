/**
 * The one way memberships change. Every writer (REST /members, SCIM Groups, audience rules, the
 * consumer applying a user's requested memberships, deactivation, erasure, collection deletion)
 * describes its change to a MembershipWriter and commits the statements it returns in its own D1
 * batch, next to its own guards. What every change gets from here, and from nowhere else:
 *  - set-based statements: member and collection ids are bound as JSON arrays (json_each), so a
 *    change of any size is a fixed number of statements, seeks per listed id, under D1's
 *    100-parameter limit, and never reads the collection's other members;
 *  - a feed event (membership.added / membership.removed) for exactly the rows that change,
 *    inserted just before the change by the same predicate, so replays and races never emit twice;
 *  - a version bump of every collection whose membership changed (`updated_at`, which SCIM shows as
 *    the group's ETag and meta.lastModified), in the same batch, once per batch.
 */
import { sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { batchableRun } from "../db/client";
import type { Db } from "../core/context";
import { actorSql } from "../audit/actor";

export type Source = "manual" | "rule";

/** Which current members of the listed collections an end applies to. */
export type Selection = { only: string[] } | { except: string[] };

/** A random UUID made in SQL, for rows whose number only the database knows (as in the outbox). */
const RANDOM_UUID = sql.raw(`lower(printf('%s-%s-4%s-%s%s-%s', hex(randomblob(4)), hex(randomblob(2)), substr(hex(randomblob(2)), 2),
  substr('89ab', 1 + (abs(random()) % 4), 1), substr(hex(randomblob(2)), 2), hex(randomblob(6))))`);

const listOf = (values: Iterable<string>) => sql`(SELECT value FROM json_each(${JSON.stringify([...new Set(values)])}))`;
/** The collection as membership events carry it, read from the row (so a rename in the same batch shows). */
const collectionJson = sql`json_object('id', c.id, 'kind', c.kind, 'name', c.name)`;

export class MembershipWriter {
  private readonly items: BatchItem<"sqlite">[] = [];
  private readonly touched = new Set<string>();
  private readonly started = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly tenantId: string,
    private readonly now: number,
  ) {}

  get isEmpty(): boolean {
    return this.items.length === 0;
  }

  /**
   * Starts a membership for every listed user in every listed collection, where the collection is
   * live, the user is not erased and no membership is current (already-members are left alone).
   * Returns the index (in statements()) of the insert, whose rows are `{collection_id, user_id}`
   * of the memberships it started.
   */
  start(collectionIds: string[], userIds: string[], source: Source): number {
    if (collectionIds.length === 0 || userIds.length === 0) return -1;
    const t = this.tenantId;
    const fresh = sql`c.tenant_id = ${t} AND c.id IN ${listOf(collectionIds)} AND c.deleted_at IS NULL
      AND EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = ${t} AND u.id = j.value AND u.erased_at IS NULL)
      AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = ${t} AND m.collection_id = c.id AND m.user_id = j.value AND m.ended_at IS NULL)`;
    const pairs = sql`FROM collections c, json_each(${JSON.stringify([...new Set(userIds)])}) j WHERE ${fresh}`;
    this.items.push(
      batchableRun(this.db, sql`INSERT INTO events (id, tenant_id, type, subject_id, data, created_at, status, processed_at, actor)
        SELECT ${RANDOM_UUID}, ${t}, 'membership.added', j.value,
               json_object('userId', j.value, 'collection', ${collectionJson}, 'source', ${source}), ${this.now}, 'processed', ${this.now},
               ${actorSql(this.db, source, sql.raw("c.id"))}
        ${pairs}`),
      // The partial unique index (one current row per collection and user) settles any race.
      batchableRun(this.db, sql`INSERT INTO memberships (tenant_id, id, collection_id, user_id, source, started_at)
        SELECT ${t}, ${RANDOM_UUID}, c.id, j.value, ${source}, ${this.now} ${pairs}
        ON CONFLICT DO NOTHING RETURNING collection_id, user_id`),
    );
    for (const id of collectionIds) this.touched.add(id);
    for (const id of userIds) this.started.add(id);
    return this.items.length - 1;
  }

  /**
   * Ends the current memberships of the listed collections selected by `users` (and, for rules,
   * only those of `onlySource`), kept as history with `reason`. `events: false` only for a deleted
   * collection, whose collection.deleted event stands for all of them. Returns the index of the
   * update, whose rows are `{collection_id, user_id}` of the memberships it ended.
   */
  end(collectionIds: string[], users: Selection, reason: string, options: { onlySource?: Source; events?: boolean } = {}): number {
    if (collectionIds.length === 0 || ("only" in users && users.only.length === 0)) return -1;
    const t = this.tenantId;
    const who = "only" in users ? sql`m.user_id IN ${listOf(users.only)}` : sql`m.user_id NOT IN ${listOf(users.except)}`;
    const current = sql`m.tenant_id = ${t} AND m.collection_id IN ${listOf(collectionIds)} AND m.ended_at IS NULL AND ${who}
      ${options.onlySource ? sql`AND m.source = ${options.onlySource}` : sql``}`;
    if (options.events !== false) {
      this.items.push(
        batchableRun(this.db, sql`INSERT INTO events (id, tenant_id, type, subject_id, data, created_at, status, processed_at, actor)
          SELECT ${RANDOM_UUID}, ${t}, 'membership.removed', m.user_id,
                 json_object('userId', m.user_id, 'collection', ${collectionJson}, 'reason', ${reason}), ${this.now}, 'processed', ${this.now},
                 ${actorSql(this.db, options.onlySource, sql.raw("c.id"))}
          FROM memberships m JOIN collections c ON c.tenant_id = m.tenant_id AND c.id = m.collection_id WHERE ${current}`),
      );
    }
    this.items.push(
      batchableRun(this.db, sql`UPDATE memberships AS m SET ended_at = ${this.now}, end_reason = ${reason} WHERE ${current} RETURNING collection_id, user_id`),
    );
    for (const id of collectionIds) this.touched.add(id);
    return this.items.length - 1;
  }

  /**
   * The statements, the version bump last. A collection is bumped only if a membership of it
   * started or ended at this write's `now` (index seeks: ended rows by (collection, ended_at),
   * started rows by the listed users), so a no-op write leaves its ETag alone. Another write in the
   * same millisecond can only cause an extra bump, never a missing one.
   */
  statements(): BatchItem<"sqlite">[] {
    if (this.items.length === 0) return [];
    const t = this.tenantId;
    const changedHere: SQL = sql`EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = ${t} AND m.collection_id = collections.id AND m.ended_at = ${this.now})
      OR EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = ${t} AND m.collection_id = collections.id AND m.ended_at IS NULL
                 AND m.user_id IN ${listOf(this.started)} AND m.started_at = ${this.now})`;
    return [
      ...this.items,
      batchableRun(this.db, sql`UPDATE collections SET updated_at = max(updated_at + 1, ${this.now})
        WHERE tenant_id = ${t} AND id IN ${listOf(this.touched)} AND (${changedHere})`),
    ];
  }
}

/**
 * `{collection_id, user_id}` rows a start() or end() statement reported: `index` as they returned
 * it, `offset` the number of the caller's statements before the writer's in the batch.
 */
export function changedRows(results: unknown[], index: number, offset = 0): Array<{ collection_id: string; user_id: string }> {
  if (index < 0) return [];
  return ((results[offset + index] as D1Result<{ collection_id: string; user_id: string }> | undefined)?.results ?? []);
}

/**
 * A statement that aborts the batch (SQLite raises "malformed JSON") unless `condition` holds.
 * D1 has no interactive transactions; this turns a read-time assumption into a commit-time check.
 */
export function abortUnless(db: Db, condition: SQL) {
  return batchableRun(db, sql`SELECT CASE WHEN ${condition} THEN 1 ELSE json('precondition failed') END`);
}

export function isAbortedPrecondition(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    if (e instanceof Error && e.message.includes("malformed JSON")) return true;
    e = e instanceof Error ? (e as { cause?: unknown }).cause : undefined;
  }
  return false;
}

/** Guard: the collection exists and is not deleted (and, when `version` is given, is still at it). */
export function collectionLive(db: Db, tenantId: string, id: string, version?: number) {
  const pinned = version === undefined ? sql`` : sql`AND updated_at = ${version}`;
  return abortUnless(db, sql`EXISTS (SELECT 1 FROM collections WHERE tenant_id = ${tenantId} AND id = ${id} AND deleted_at IS NULL ${pinned})`);
}
