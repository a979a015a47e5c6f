/**
 * Applying a new or changed audience rule to a tenant's existing users, one page of users per
 * queue message, so no invocation grows with the tenant. A page costs two D1 round trips: one read
 * batch (collection, the page of users, their memberships of it, role names) and one write batch
 * (membership changes through the MembershipWriter, guarded by the rule version).
 */
import { and, asc, eq, gt, isNull, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { collections, memberships, users } from "../db/schema";
import type { Db } from "../env";
import { toUser } from "../users/model";
import { RoleDirectory, rolesQuery } from "../users/references";
import { KIND_INFO } from "./kinds";
import { matchesRule, ruleSubject } from "./rules";
import { abortUnless, MembershipWriter } from "./statements";

/** Users per background rule page. */
export const RULE_PAGE_SIZE = 100;

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
  const t = page.tenantId;
  // Users are read only while the run is current (a stale or deleted collection reads none).
  const current = sql`EXISTS (SELECT 1 FROM ${collections} WHERE tenant_id = ${t} AND id = ${page.collectionId} AND rule_version = ${page.ruleVersion} AND deleted_at IS NULL)`;
  const userConditions: SQL[] = [eq(users.tenantId, t), isNull(users.erasedAt), current];
  if (page.after !== null) userConditions.push(gt(users.id, page.after));
  const pageUsers = db.select({ id: users.id }).from(users).where(and(...userConditions)).orderBy(asc(users.id)).limit(RULE_PAGE_SIZE);
  const [collectionRows, rows, memberRows, roles] = await db.batch([
    db.select().from(collections).where(and(eq(collections.tenantId, t), eq(collections.id, page.collectionId))),
    db.select().from(users).where(and(...userConditions)).orderBy(asc(users.id)).limit(RULE_PAGE_SIZE),
    db
      .select({ userId: memberships.userId, source: memberships.source })
      .from(memberships)
      .where(and(eq(memberships.tenantId, t), eq(memberships.collectionId, page.collectionId), isNull(memberships.endedAt), sql`${memberships.userId} IN ${pageUsers}`)),
    rolesQuery(db, t),
  ]);
  const c = collectionRows[0];
  if (!c || c.ruleVersion !== page.ruleVersion) return null;
  if (rows.length === 0) {
    await setRuleStatus(db, page, "applied", now);
    return null;
  }
  const sources = new Map(memberRows.map((m) => [m.userId, m.source]));
  const roleNames = new RoleDirectory(roles);
  const enrol: string[] = [];
  const unenrol: string[] = [];
  for (const u of rows) {
    const want = c.rule !== null && (u.active || !KIND_INFO[c.kind].activeOnly) && matchesRule(c.rule, ruleSubject(toUser(u, roleNames)));
    const source = sources.get(u.id);
    if (want && source === undefined) enrol.push(u.id);
    else if (!want && source === "rule") unenrol.push(u.id);
  }
  const writer = new MembershipWriter(db, t, now);
  writer.end([c.id], { only: unenrol }, "rule no longer matches", { onlySource: "rule" });
  writer.start([c.id], enrol, "rule");
  const done = rows.length < RULE_PAGE_SIZE;
  const statements: BatchItem<"sqlite">[] = [...writer.statements(), ...(done ? [setRuleStatus(db, page, "applied", now)] : [])];
  if (statements.length > 0) {
    await db.batch([
      abortUnless(db, sql`(SELECT rule_version FROM ${collections} WHERE tenant_id = ${t} AND id = ${c.id}) = ${page.ruleVersion}`),
      ...statements,
    ] as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  }
  return done ? null : rows[rows.length - 1]!.id;
}
