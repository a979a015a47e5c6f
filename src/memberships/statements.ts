/**
 * Membership writes as batch statements, each paired with its feed event. The event is inserted
 * only when the write changed a row, so replays and races never emit an event twice.
 */
import { and, eq, isNull } from "drizzle-orm";
import { memberships } from "../db/schema";
import type { Db } from "../env";
import { insertEventIfPreviousChangedOneRow } from "../events/outbox";
import { uuidv7 } from "../lib/ids";
import type { CollectionKind } from "./kinds";

export interface CollectionRef {
  id: string;
  kind: CollectionKind;
  name: string;
}

export function addMembership(
  db: Db,
  m: { tenantId: string; collection: CollectionRef; userId: string; source: "manual" | "rule"; now: number },
) {
  return [
    db
      .insert(memberships)
      .values({ tenantId: m.tenantId, id: uuidv7(m.now), collectionId: m.collection.id, userId: m.userId, source: m.source, startedAt: m.now })
      // The partial unique index (one current row per collection and user) makes this a no-op for members.
      .onConflictDoNothing(),
    insertEventIfPreviousChangedOneRow(db, {
      tenantId: m.tenantId,
      type: "membership.added",
      subjectId: m.userId,
      data: { userId: m.userId, collection: m.collection, source: m.source },
      createdAt: m.now,
      status: "processed",
    }),
  ] as const;
}

export function endMembership(
  db: Db,
  m: { tenantId: string; collection: CollectionRef; userId: string; reason: string; now: number; onlySource?: "manual" | "rule" },
) {
  const conditions = [
    eq(memberships.tenantId, m.tenantId),
    eq(memberships.collectionId, m.collection.id),
    eq(memberships.userId, m.userId),
    isNull(memberships.endedAt),
  ];
  if (m.onlySource) conditions.push(eq(memberships.source, m.onlySource));
  return [
    db.update(memberships).set({ endedAt: m.now, endReason: m.reason }).where(and(...conditions)),
    insertEventIfPreviousChangedOneRow(db, {
      tenantId: m.tenantId,
      type: "membership.removed",
      subjectId: m.userId,
      data: { userId: m.userId, collection: m.collection, reason: m.reason },
      createdAt: m.now,
      status: "processed",
    }),
  ] as const;
}
