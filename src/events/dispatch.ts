/**
 * Outbox -> queue. After a write commits, its events are sent at once (in waitUntil); the sweep
 * re-sends any event the consumer has not acknowledged within a minute, so a failed send, a crash
 * between commit and send, or a lost message only delays the effects.
 */
import { and, eq, inArray, lt, or, sql } from "drizzle-orm";
import { events } from "../db/schema";
import type { Db, Env } from "../env";
import type { QueueMessage } from "./messages";

/** An event not processed within this long after its last send is sent again. */
export const REDELIVER_AFTER_MS = 60_000;
/**
 * Messages per sendBatch (Queues allow 100). Also the size of the `id IN (...)` that marks them
 * sent, which must stay under D1's 100 bound parameters together with the other parameters.
 */
const SEND_BATCH = 90;
/** Upper bound per sweep run, to stay well inside one invocation's limits. */
const SWEEP_MAX = 1000;

export interface OutboxRef {
  id: string;
  tenantId: string;
  /** The shard the event was committed on: saves the consumer a directory lookup (src/shards/directory.ts). */
  shard?: string;
}

async function sendAndMark(env: Env, db: Db, refs: OutboxRef[]): Promise<void> {
  for (let i = 0; i < refs.length; i += SEND_BATCH) {
    const chunk = refs.slice(i, i + SEND_BATCH);
    await env.EVENTS_QUEUE.sendBatch(chunk.map((r) => ({ body: { t: "event", tenantId: r.tenantId, eventId: r.id, ...(r.shard ? { shard: r.shard } : {}) } satisfies QueueMessage })));
    const now = Date.now();
    // Only pending/sent rows move: the consumer may already have marked a row processed.
    await db
      .update(events)
      .set({ status: sql`CASE WHEN ${events.status} = 'pending' THEN 'sent' ELSE ${events.status} END`, sentAt: now, attempts: sql`${events.attempts} + 1` })
      .where(and(inArray(events.id, chunk.map((r) => r.id)), inArray(events.status, ["pending", "sent"])));
  }
}

/**
 * Sends freshly committed events. Never throws: a failure here is exactly what the sweep is for,
 * and the client's write has already succeeded.
 */
export async function dispatchEvents(env: Env, db: Db, refs: OutboxRef[]): Promise<void> {
  if (refs.length === 0) return;
  try {
    await sendAndMark(env, db, refs);
  } catch (err) {
    console.warn("outbox: immediate send failed; the sweep will re-send", { events: refs.map((r) => r.id), error: String(err) });
  }
}

/** Re-sends events that were never sent or not acknowledged within REDELIVER_AFTER_MS. */
export async function sweepOutbox(env: Env, db: Db, now = Date.now(), shard?: string): Promise<number> {
  const cutoff = now - REDELIVER_AFTER_MS;
  let total = 0;
  let afterSeq = 0;
  while (total < SWEEP_MAX) {
    const rows = await db
      .select({ seq: events.seq, id: events.id, tenantId: events.tenantId })
      .from(events)
      .where(
        and(
          inArray(events.status, ["pending", "sent"]),
          sql`${events.seq} > ${afterSeq}`,
          or(and(eq(events.status, "pending"), lt(events.createdAt, cutoff)), lt(events.sentAt, cutoff)),
        ),
      )
      .orderBy(events.seq)
      .limit(SEND_BATCH)
      .all();
    if (rows.length === 0) break;
    await sendAndMark(env, db, shard ? rows.map((r) => ({ ...r, shard })) : rows);
    total += rows.length;
    afterSeq = rows[rows.length - 1]!.seq;
    if (rows.length < SEND_BATCH) break;
  }
  if (total > 0) console.info(`outbox sweep re-sent ${total} event(s)`);
  return total;
}

/** The `onCommit` hook adapters hand to the users core: send the committed events after the response. */
export function dispatchAfterResponse(env: Env, db: Db, c: { readonly executionCtx: { waitUntil(promise: Promise<unknown>): void } }): (refs: OutboxRef[]) => void {
  // executionCtx is read only when there is something to send: Hono's getter throws without one.
  return (refs) => c.executionCtx.waitUntil(dispatchEvents(env, db, refs));
}
