/**
 * What the queue consumer does for a user: apply requested memberships, enrol or un-enrol by
 * audience rules, end campaign and access-group memberships of deactivated users, end everything
 * for erased users. The plan is computed from the user's CURRENT state (not the event payload), so
 * redelivered or reordered events converge on the same result.
 *
 * Reading and planning are apart so that the consumer can read everything an event needs in ONE
 * D1 batch (userEffectReads, together with the event row) and write in one more: planUserEffects
 * is pure and hands its changes to the MembershipWriter.
 */
import { and, asc, eq, isNotNull, isNull, sql, type SQL } from "drizzle-orm";
import { collections, memberships, users } from "../db/schema";
import type { Db } from "../env";
import { toUser } from "../users/model";
import { RoleDirectory, rolesQuery, type RoleRef } from "../users/references";
import { COLLECTION_KINDS, KIND_INFO, type CollectionKind, type MembershipRequest } from "./kinds";
import type { ProvisioningItemError } from "./provisioning";
import { matchesRule, ruleSubject } from "./rules";
import { abortUnless, type MembershipWriter, type Source } from "./statements";

/** Rule-bearing collections evaluated per user change; more than this is a configuration smell. */
export const MAX_RULE_COLLECTIONS = 500;

/**
 * The reads a user's plan needs, as queries to run in the caller's batch. `userId` and
 * `requestedIds` are SQL (subqueries over the event row), so they need no earlier round trip;
 * `userId` NULL (not a user event) makes them all empty.
 */
export function userEffectReads(db: Db, tenantId: string, userId: SQL, requestedIds: SQL) {
  return [
    db.select().from(users).where(and(eq(users.tenantId, tenantId), sql`${users.id} = ${userId}`)),
    db
      .select({ collectionId: memberships.collectionId, source: memberships.source, kind: collections.kind, name: collections.name })
      .from(memberships)
      .innerJoin(collections, and(eq(collections.tenantId, memberships.tenantId), eq(collections.id, memberships.collectionId)))
      .where(and(eq(memberships.tenantId, tenantId), sql`${memberships.userId} = ${userId}`, isNull(memberships.endedAt)))
      .limit(1000),
    db
      .select({ id: collections.id, kind: collections.kind })
      .from(collections)
      .where(and(eq(collections.tenantId, tenantId), sql`${collections.id} IN ${requestedIds}`, isNull(collections.deletedAt))),
    db
      .select({ id: collections.id, kind: collections.kind, rule: collections.rule })
      .from(collections)
      .where(and(eq(collections.tenantId, tenantId), isNotNull(collections.rule), isNull(collections.deletedAt), sql`${userId} IS NOT NULL`))
      .orderBy(asc(collections.id))
      .limit(MAX_RULE_COLLECTIONS),
    rolesQuery(db, tenantId),
  ] as const;
}

type Rows<Q> = Q extends { all(): Promise<infer R> } ? R : never;
type RowsOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: Rows<T[K]> };
/** What userEffectReads' queries return, in their order. */
export type UserSnapshot = RowsOf<ReturnType<typeof userEffectReads>>;

export interface PlanResult {
  errors: ProvisioningItemError[];
  /** The user version the plan was computed from, or null for a missing/erased user. */
  basedOnVersion: number | null;
}

/** Collects the plan's changes: one end per reason and one start per source, ends first. */
class UserChanges {
  private readonly ends = new Map<string, { ids: string[]; onlySource?: Source }>();
  private readonly starts = new Map<Source, string[]>();

  end(collectionId: string, reason: string, onlySource?: Source) {
    const e = this.ends.get(reason) ?? { ids: [], onlySource };
    e.ids.push(collectionId);
    this.ends.set(reason, e);
  }

  start(collectionId: string, source: Source) {
    this.starts.set(source, [...(this.starts.get(source) ?? []), collectionId]);
  }

  writeTo(writer: MembershipWriter, userId: string) {
    for (const [reason, e] of this.ends) writer.end(e.ids, { only: [userId] }, reason, { onlySource: e.onlySource });
    for (const [source, ids] of this.starts) writer.start(ids, [userId], source);
  }
}

/**
 * `requested`: per listed kind, the complete set of manual memberships (others of that kind end).
 * `additions`: memberships to add, ending none (bulk invitations of existing users).
 */
export function planUserEffects(
  writer: MembershipWriter,
  userId: string,
  [userRows, current, requestedCollections, ruled, roles]: UserSnapshot,
  requested: MembershipRequest | undefined,
  additions?: MembershipRequest,
): PlanResult {
  const row = userRows[0];
  const changes = new UserChanges();
  const errors: ProvisioningItemError[] = [];
  if (!row || row.erasedAt !== null) {
    for (const m of current) changes.end(m.collectionId, "user erased");
    changes.writeTo(writer, userId);
    return { errors, basedOnVersion: null };
  }

  // Membership state after this plan: collection id -> source.
  const after = new Map(current.map((m) => [m.collectionId, m.source]));
  const active = row.active;
  const kindOf = new Map<string, CollectionKind>(requestedCollections.map((c) => [c.id, c.kind]));

  // 1. Requested memberships (replace per listed kind) and additions (add only).
  const apply = (request: MembershipRequest, replace: boolean) => {
    for (const kind of COLLECTION_KINDS) {
      const list = request[kind];
      if (!list) continue;
      const info = KIND_INFO[kind];
      const wanted = new Set<string>();
      for (const id of list) {
        if (kindOf.get(id) !== kind) {
          errors.push({ kind: info.userField, id, reason: `no ${info.label} with id '${id}' exists in this tenant` });
        } else if (info.activeOnly && !active) {
          errors.push({ kind: info.userField, id, reason: `the user is deactivated; only active users can join ${info.segment}` });
        } else {
          wanted.add(id);
          if (!after.has(id)) {
            changes.start(id, "manual");
            after.set(id, "manual");
          }
        }
      }
      if (!replace) continue;
      for (const m of current) {
        if (m.kind === kind && m.source === "manual" && !wanted.has(m.collectionId)) {
          changes.end(m.collectionId, "removed by request", "manual");
          after.delete(m.collectionId);
        }
      }
    }
  };
  if (requested) apply(requested, true);
  if (additions) apply(additions, false);

  // 2. Audience rules, evaluated against the user's current attributes.
  const subject = ruleSubject(toUser(row, new RoleDirectory(roles as RoleRef[])));
  const wasCurrent = new Set(current.map((m) => m.collectionId));
  for (const c of ruled) {
    const want = (active || !KIND_INFO[c.kind].activeOnly) && matchesRule(c.rule!, subject);
    const source = after.get(c.id);
    if (want && source === undefined) {
      changes.start(c.id, "rule");
      after.set(c.id, "rule");
    } else if (!want && source === "rule" && wasCurrent.has(c.id)) {
      changes.end(c.id, "rule no longer matches", "rule");
      after.delete(c.id);
    }
  }

  // 3. Deactivation ends campaign enrolments and access-group memberships, whatever their source.
  if (!active) {
    for (const m of current) {
      if (KIND_INFO[m.kind].activeOnly && after.has(m.collectionId)) {
        changes.end(m.collectionId, "user deactivated");
        after.delete(m.collectionId);
      }
    }
  }
  changes.writeTo(writer, userId);
  return { errors, basedOnVersion: row.version };
}

/** Guard: the user is still at the version the plan was computed from. */
export function userUnchanged(db: Db, tenantId: string, userId: string, version: number) {
  return abortUnless(db, sql`(SELECT version FROM ${users} WHERE tenant_id = ${tenantId} AND id = ${userId}) = ${version}`);
}
