/**
 * Queue consumer. Delivery is at least once and batches may be redelivered, so:
 *  - each message is acked or retried on its own (one bad message does not replay its neighbours);
 *  - a user event's effects, its receipt (event_receipts primary key) and its `processed` mark are
 *    one D1 batch: a redelivery hits the receipt's key, the batch rolls back, nothing applies twice;
 *  - a failure retries with exponential backoff; after max_retries the queue moves the message to
 *    the dead-letter queue, whose consumer marks the event `failed` for an admin to replay.
 */
import { and, eq, inArray, ne, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { tenantShardDb, tenantShardDbs } from "../shards/directory";
import { uniqueViolation } from "../db/errors";
import { eventReceipts, events, userProvisioning } from "../db/schema";
import type { Db, Env } from "../env";
import type { MembershipRequest } from "../memberships/kinds";
import { planUserEffects, userEffectReads, userUnchanged } from "../memberships/effects";
import { applyRulePage, setRuleStatus } from "../memberships/rule-pages";
import { abortUnless, isAbortedPrecondition, MembershipWriter } from "../memberships/statements";
import { markFinished } from "../memberships/provisioning";
import type { QueueMessage } from "./messages";
import { bindActor, parseActor } from "../audit/actor";
import { requestFanout } from "../webhooks/fanout";

const USER_EVENTS = new Set(["user.created", "user.updated", "user.deactivated", "user.reactivated", "user.erased", "user.memberships_requested"]);
const MAX_BACKOFF_SECONDS = 40;
const MAX_LATER_REQUESTS = 100;

/** An error whose message is safe to show an admin (no SQL, no stack). */
export class ConsumerError extends Error {}

type EventRow = typeof events.$inferSelect;

function parseData(row: EventRow): Record<string, unknown> {
  try {
    return JSON.parse(row.data) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function markProcessed(db: Db, row: EventRow, now: number): BatchItem<"sqlite">[] {
  return [
    db.insert(eventReceipts).values({ eventId: row.id, tenantId: row.tenantId, processedAt: now }),
    db.update(events).set({ status: "processed", processedAt: now, error: null }).where(and(eq(events.tenantId, row.tenantId), eq(events.id, row.id))),
  ];
}

/** Commits `statements` with the receipt; false when the event had already been processed. */
async function commitOnce(db: Db, row: EventRow, statements: BatchItem<"sqlite">[], now: number): Promise<boolean> {
  try {
    await db.batch([...markProcessed(db, row, now), ...statements] as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
    return true;
  } catch (err) {
    if (uniqueViolation(err)?.startsWith("event_receipts")) return false;
    if (isAbortedPrecondition(err)) throw new ConsumerError("the user or their memberships changed while the event was being applied; retrying with the new state");
    throw err;
  }
}

/** Later membership requests of the same user that were already applied (bounded: users rarely have many). */
function laterRequests(tenantId: string, subjectId: SQL, seq: SQL) {
  return and(
    eq(events.tenantId, tenantId),
    sql`${events.subjectId} = ${subjectId}`,
    sql`${events.seq} > ${seq}`,
    eq(events.status, "processed"),
    inArray(events.type, [...USER_EVENTS]),
    sql`json_extract(${events.data}, '$.memberships') IS NOT NULL`,
  );
}

/**
 * Round trip 1: everything an event needs, in ONE read batch. The user's reads key on subqueries
 * over the event row (its subject, its seq, the collection ids it requests), so nothing waits for
 * the event row to come back first. Not a user event: those reads come back empty.
 */
function readEvent(db: Db, tenantId: string, eventId: string) {
  const ofEvent = (column: string) => sql`(SELECT ${sql.raw(column)} FROM ${events} WHERE tenant_id = ${tenantId} AND id = ${eventId})`;
  const userTypes = sql.join([...USER_EVENTS].map((type) => sql`${type}`), sql`, `);
  const subject = sql`(SELECT subject_id FROM ${events} WHERE tenant_id = ${tenantId} AND id = ${eventId} AND type IN (${userTypes}))`;
  const requestedIds = sql`(SELECT j.value FROM ${events} e, json_tree(e.data) j WHERE e.tenant_id = ${tenantId} AND e.id = ${eventId}
    AND j.type = 'text' AND (j.path LIKE '$.memberships.%' OR j.path LIKE '$.addMemberships.%'))`;
  return db.batch([
    db.select().from(events).where(and(eq(events.tenantId, tenantId), eq(events.id, eventId))),
    db.select({ eventId: eventReceipts.eventId }).from(eventReceipts).where(eq(eventReceipts.eventId, eventId)),
    db.select({ data: events.data }).from(events).where(laterRequests(tenantId, subject, ofEvent("seq"))).limit(MAX_LATER_REQUESTS),
    ...userEffectReads(db, tenantId, subject, requestedIds),
  ]);
}

/**
 * Queues do not order a user's events. A request (per kind, the complete list) must not undo a
 * newer one that was applied first, so kinds that a later, already-processed event listed are
 * dropped from this one. The count is re-checked at commit, in case one lands meanwhile.
 */
function unsupersededRequest(requested: MembershipRequest | undefined, later: Array<{ data: string }>): MembershipRequest | undefined {
  if (!requested) return requested;
  const remaining: MembershipRequest = { ...requested };
  for (const l of later) {
    const newer = (parseData({ data: l.data } as EventRow).memberships ?? {}) as MembershipRequest;
    for (const kind of Object.keys(newer)) delete remaining[kind as keyof MembershipRequest];
  }
  return remaining;
}

/**
 * One event costs two sequential D1 round trips: the read batch above and one write batch
 * (effects + receipt + processed mark + provisioning status, see commitOnce). A collection event
 * whose rule changed also sends one queue message in between (not D1). Rule pages are separate
 * messages with their own two round trips each (memberships/rule-pages.ts).
 */
async function handleEvent(env: Env, db: Db, msg: Extract<QueueMessage, { t: "event" }>): Promise<void> {
  const [eventRows, receipts, later, ...snapshot] = await readEvent(db, msg.tenantId, msg.eventId);
  const row = eventRows[0];
  if (!row || row.status === "processed" || receipts.length > 0) return;
  // Effects of a change are the changer's (a rule's own changes say so, see audit/actor.ts).
  bindActor(db, parseActor(row.actor));
  const now = Date.now();
  const data = parseData(row);
  if (USER_EVENTS.has(row.type) && row.subjectId) {
    const userId = row.subjectId;
    const requested = unsupersededRequest(data.memberships as MembershipRequest | undefined, later);
    const writer = new MembershipWriter(db, row.tenantId, now);
    const plan = planUserEffects(writer, userId, snapshot, requested, data.addMemberships as MembershipRequest | undefined);
    const statements: BatchItem<"sqlite">[] = [];
    if (plan.basedOnVersion !== null) statements.push(userUnchanged(db, row.tenantId, userId, plan.basedOnVersion));
    // Same bound as the read, so that a user with very many requests cannot abort forever.
    if (data.memberships) {
      const seq = sql`${row.seq}`;
      statements.push(abortUnless(db, sql`(SELECT count(*) FROM (SELECT 1 FROM ${events} WHERE ${laterRequests(row.tenantId, sql`${userId}`, seq)} LIMIT ${MAX_LATER_REQUESTS})) = ${later.length}`));
    }
    statements.push(...writer.statements());
    statements.push(markFinished(db, { tenantId: row.tenantId, userId, eventId: row.id, now, errors: plan.errors }));
    await commitOnce(db, row, statements, now);
    return;
  }
  if ((row.type === "collection.created" || row.type === "collection.updated") && data.ruleChanged === true) {
    // Start the background run over existing users, then record the event. If recording fails the
    // event is redelivered and starts a second run: harmless, because every page is idempotent.
    await env.EVENTS_QUEUE.send({ t: "rule-page", tenantId: row.tenantId, collectionId: row.subjectId!, ruleVersion: Number(data.ruleVersion), after: null });
  }
  await commitOnce(db, row, [], now);
}

async function handleRulePage(env: Env, db: Db, msg: Extract<QueueMessage, { t: "rule-page" }>): Promise<void> {
  let next: string | null;
  try {
    next = await applyRulePage(db, msg, Date.now());
  } catch (err) {
    if (isAbortedPrecondition(err)) throw new ConsumerError("the rule changed while a page was being applied; retrying");
    throw err;
  }
  if (next !== null) await env.EVENTS_QUEUE.send({ ...msg, after: next });
}

export function backoffSeconds(env: Env, attempts: number): number {
  const base = Number(env.EVENTS_RETRY_BASE_SECONDS ?? "2");
  if (!Number.isFinite(base) || base <= 0) return 0;
  return Math.min(MAX_BACKOFF_SECONDS, Math.round(base * 2 ** Math.max(0, attempts - 1)));
}

function safeReason(err: unknown): string {
  return err instanceof ConsumerError ? err.message : "internal error while applying side effects (details are in the worker logs under this event id)";
}

export async function consumeEvents(batch: MessageBatch<QueueMessage>, env: Env): Promise<void> {
  const tenants = new Set<string>();
  for (const msg of batch.messages) {
    // The tenant's shard, fenced while the tenant moves (src/shards/directory.ts). A handle per
    // message: it carries the actor of that message's event (audit/actor.ts).
    const hint = msg.body.t === "event" && msg.attempts <= 1 ? msg.body.shard : undefined;
    const { db, plain } = await tenantShardDbs(env, msg.body.tenantId, hint);
    tenants.add(msg.body.tenantId);
    try {
      if (msg.body.t === "event") await handleEvent(env, db, msg.body);
      else if (msg.body.t === "rule-page") await handleRulePage(env, db, msg.body);
      msg.ack();
    } catch (err) {
      console.error("events consumer: message failed", { id: msg.id, attempts: msg.attempts, body: msg.body, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      if (msg.body.t === "event") {
        // Record the reason, and push sent_at forward so the sweep leaves the queue's own retries alone.
        await plain
          .update(events)
          .set({ error: `attempt ${msg.attempts}: ${safeReason(err)}`, sentAt: Date.now() })
          .where(and(eq(events.tenantId, msg.body.tenantId), eq(events.id, msg.body.eventId), ne(events.status, "processed")))
          .catch(() => undefined);
      }
      const delay = backoffSeconds(env, msg.attempts);
      msg.retry(delay > 0 ? { delaySeconds: delay } : undefined);
    }
  }
  // Effects wrote feed events (memberships): let webhooks fan them out now, not at the next sweep.
  await requestFanout(env, [...tenants]);
}

/** Dead letters: make the failure visible (event `failed`, the user's provisioning `failed`). */
export async function consumeDeadLetters(batch: MessageBatch<QueueMessage>, env: Env): Promise<void> {
  for (const msg of batch.messages) {
    const body = msg.body;
    const db = await tenantShardDb(env, body.tenantId);
    if (body.t === "event") {
      const reason = "gave up after repeated failures; an admin can replay it with POST /v1/events/{id}/replay";
      await db.batch([
        db
          .update(events)
          .set({ status: "failed", error: sql`coalesce(${events.error} || '; ', '') || ${reason}` })
          .where(and(eq(events.tenantId, body.tenantId), eq(events.id, body.eventId), ne(events.status, "processed"))),
        db
          .update(userProvisioning)
          .set({ status: "failed", errors: JSON.stringify([{ kind: "event", id: body.eventId, reason }]), completedAt: Date.now() })
          .where(and(eq(userProvisioning.tenantId, body.tenantId), eq(userProvisioning.eventId, body.eventId), eq(userProvisioning.status, "pending"))),
      ]);
    } else if (body.t === "rule-page") {
      console.error("events consumer: rule page dead-lettered; re-saving the collection's rule runs it again", body);
      await setRuleStatus(db, body, "failed", Date.now());
    }
    msg.ack();
  }
}
