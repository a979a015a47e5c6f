/**
 * What the queue consumer does for a user: apply requested memberships, enrol or un-enrol by
 * audience rules, end campaign and access-group memberships of deactivated users, end everything
 * for erased users. The plan is computed from the user's CURRENT state (not the event payload), so
 * redelivered or reordered events converge on the same result.
 */
import { batchableRun } from "../db/client";
import { and, asc, eq, gt, inArray, isNotNull, isNull, lte, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { collections, memberships, users } from "../db/schema";
import type { Db } from "../env";
import { toUser } from "../users/model";
import { loadRoles } from "../users/references";
import { COLLECTION_KINDS, KIND_INFO, type CollectionKind, type MembershipRequest } from "./kinds";
import type { ProvisioningItemError } from "./provisioning";
import { matchesRule, ruleSubject } from "./rules";
import { addMembership, endMembership, type CollectionRef } from "./statements";

/** Rule-bearing collections evaluated per user change; more than this is a configuration smell. */
export const MAX_RULE_COLLECTIONS = 500;
/** Users per background rule page: two statements per user keep a batch far below D1's limits. */
export const RULE_PAGE_SIZE = 100;

export interface Plan {
  statements: BatchItem<"sqlite">[];
  errors: ProvisioningItemError[];
  /** The user version the plan was computed from, or null for a missing/erased user. */
  basedOnVersion: number | null;
}

/**
 * A statement that aborts the batch (SQLite raises "malformed JSON") unless `condition` holds.
 * D1 has no interactive transactions; this turns a read-time assumption into a commit-time check.
 */
export function abortUnless(db: Db, condition: ReturnType<typeof sql>) {
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

function refOf(c: { id: string; kind: CollectionKind; name: string }): CollectionRef {
  return { id: c.id, kind: c.kind, name: c.name };
}

export async function planUserEffects(db: Db, tenantId: string, userId: string, requested: MembershipRequest | undefined, now: number): Promise<Plan> {
  const row = await db.select().from(users).where(and(eq(users.tenantId, tenantId), eq(users.id, userId))).get();
  const current = await db
    .select({ collectionId: memberships.collectionId, source: memberships.source, kind: collections.kind, name: collections.name })
    .from(memberships)
    .innerJoin(collections, and(eq(collections.tenantId, memberships.tenantId), eq(collections.id, memberships.collectionId)))
    .where(and(eq(memberships.tenantId, tenantId), eq(memberships.userId, userId), isNull(memberships.endedAt)))
    .limit(1000)
    .all();
  const statements: BatchItem<"sqlite">[] = [];
  const errors: ProvisioningItemError[] = [];
  const end = (c: CollectionRef, reason: string) => statements.push(...endMembership(db, { tenantId, collection: c, userId, reason, now }));
  const add = (c: CollectionRef, source: "manual" | "rule") => statements.push(...addMembership(db, { tenantId, collection: c, userId, source, now }));

  if (!row || row.erasedAt !== null) {
    for (const m of current) end(refOf({ id: m.collectionId, kind: m.kind, name: m.name }), "user erased");
    return { statements, errors, basedOnVersion: null };
  }

  // Membership state after this plan: collection id -> source.
  const after = new Map(current.map((m) => [m.collectionId, m.source]));
  const currentRef = new Map(current.map((m) => [m.collectionId, refOf({ id: m.collectionId, kind: m.kind, name: m.name })]));
  const active = row.active;

  // 1. Requested memberships: per listed kind, the complete set of the user's manual memberships.
  if (requested) {
    const ids = [...new Set(Object.values(requested).flat())];
    const found = new Map<string, CollectionRef>();
    for (let i = 0; i < ids.length; i += 90) {
      const rows = await db
        .select({ id: collections.id, kind: collections.kind, name: collections.name })
        .from(collections)
        .where(and(eq(collections.tenantId, tenantId), inArray(collections.id, ids.slice(i, i + 90)), isNull(collections.deletedAt)))
        .all();
      for (const r of rows) found.set(r.id, refOf(r));
    }
    for (const kind of COLLECTION_KINDS) {
      const list = requested[kind];
      if (!list) continue;
      const info = KIND_INFO[kind];
      const wanted = new Set<string>();
      for (const id of list) {
        const c = found.get(id);
        if (!c || c.kind !== kind) {
          errors.push({ kind: info.userField, id, reason: `no ${info.label} with id '${id}' exists in this tenant` });
        } else if (info.activeOnly && !active) {
          errors.push({ kind: info.userField, id, reason: `the user is deactivated; only active users can join ${info.segment}` });
        } else {
          wanted.add(id);
          if (!after.has(id)) {
            add(c, "manual");
            after.set(id, "manual");
          }
        }
      }
      for (const m of current) {
        if (m.kind === kind && m.source === "manual" && !wanted.has(m.collectionId)) {
          end(currentRef.get(m.collectionId)!, "removed by request");
          after.delete(m.collectionId);
        }
      }
    }
  }

  // 2. Audience rules, evaluated against the user's current attributes.
  const ruled = await db
    .select({ id: collections.id, kind: collections.kind, name: collections.name, rule: collections.rule })
    .from(collections)
    .where(and(eq(collections.tenantId, tenantId), isNotNull(collections.rule), isNull(collections.deletedAt)))
    .orderBy(asc(collections.id))
    .limit(MAX_RULE_COLLECTIONS)
    .all();
  const subject = ruleSubject(toUser(row, await loadRoles(db, tenantId)));
  for (const c of ruled) {
    const want = (active || !KIND_INFO[c.kind].activeOnly) && matchesRule(c.rule!, subject);
    const source = after.get(c.id);
    if (want && source === undefined) {
      add(refOf(c), "rule");
      after.set(c.id, "rule");
    } else if (!want && source === "rule" && currentRef.has(c.id)) {
      end(currentRef.get(c.id)!, "rule no longer matches");
      after.delete(c.id);
    }
  }

  // 3. Deactivation ends campaign enrolments and access-group memberships, whatever their source.
  if (!active) {
    for (const m of current) {
      if (KIND_INFO[m.kind].activeOnly && after.has(m.collectionId)) {
        end(currentRef.get(m.collectionId)!, "user deactivated");
        after.delete(m.collectionId);
      }
    }
  }
  return { statements, errors, basedOnVersion: row.version };
}

/** Guard: the user is still at the version the plan was computed from. */
export function userUnchanged(db: Db, tenantId: string, userId: string, version: number) {
  return abortUnless(db, sql`(SELECT version FROM ${users} WHERE tenant_id = ${tenantId} AND id = ${userId}) = ${version}`);
}

export interface RulePage {
  tenantId: string;
  collectionId: string;
  ruleVersion: number;
  after: string | null;
}

/** Sets the run's status, only if the collection is still at that rule version. */
export function setRuleStatus(db: Db, page: Pick<RulePage, "tenantId" | "collectionId" | "ruleVersion">, status: "applied" | "failed", now: number) {
  return db
    .update(collections)
    .set({ ruleStatus: status, ruleAppliedAt: status === "applied" ? now : null })
    .where(and(eq(collections.tenantId, page.tenantId), eq(collections.id, page.collectionId), eq(collections.ruleVersion, page.ruleVersion)));
}

/**
 * Applies one collection's rule to one page of the tenant's users. Returns the cursor for the next
 * page, or null when done (the last page marks the run `applied`) or when the rule changed since
 * (the newer version has its own run).
 */
export async function applyRulePage(db: Db, page: RulePage, now: number): Promise<string | null> {
  const c = await db
    .select()
    .from(collections)
    .where(and(eq(collections.tenantId, page.tenantId), eq(collections.id, page.collectionId)))
    .get();
  if (!c || c.ruleVersion !== page.ruleVersion) return null;
  const deleted = c.deletedAt !== null;
  const conditions = [eq(users.tenantId, page.tenantId), isNull(users.erasedAt)];
  if (page.after !== null) conditions.push(gt(users.id, page.after));
  const rows = deleted ? [] : await db.select().from(users).where(and(...conditions)).orderBy(asc(users.id)).limit(RULE_PAGE_SIZE).all();
  if (rows.length === 0) {
    await setRuleStatus(db, page, "applied", now);
    return null;
  }
  const last = rows[rows.length - 1]!.id;
  // The page's current memberships by id range: an IN list would exceed D1's 100 bound parameters.
  const memberConditions = [
    eq(memberships.tenantId, page.tenantId),
    eq(memberships.collectionId, c.id),
    isNull(memberships.endedAt),
    lte(memberships.userId, last),
  ];
  if (page.after !== null) memberConditions.push(gt(memberships.userId, page.after));
  const current = new Map(
    (await db.select({ userId: memberships.userId, source: memberships.source }).from(memberships).where(and(...memberConditions)).all()).map((m) => [m.userId, m.source]),
  );
  const ref = refOf(c);
  const statements: BatchItem<"sqlite">[] = [];
  const roleNames = await loadRoles(db, page.tenantId);
  for (const u of rows) {
    const want = c.rule !== null && (u.active || !KIND_INFO[c.kind].activeOnly) && matchesRule(c.rule, ruleSubject(toUser(u, roleNames)));
    const source = current.get(u.id);
    if (want && source === undefined) statements.push(...addMembership(db, { tenantId: page.tenantId, collection: ref, userId: u.id, source: "rule", now }));
    else if (!want && source === "rule") {
      statements.push(...endMembership(db, { tenantId: page.tenantId, collection: ref, userId: u.id, reason: "rule no longer matches", now, onlySource: "rule" }));
    }
  }
  const done = rows.length < RULE_PAGE_SIZE;
  if (done) statements.push(setRuleStatus(db, page, "applied", now));
  if (statements.length > 0) {
    await db.batch([
      abortUnless(db, sql`(SELECT rule_version FROM ${collections} WHERE tenant_id = ${page.tenantId} AND id = ${c.id}) = ${page.ruleVersion}`),
      ...statements,
    ] as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  }
  return done ? null : last;
}
