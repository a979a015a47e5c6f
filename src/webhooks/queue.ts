/**
 * The webhooks queue's consumer and the every-minute sweep.
 *
 * Messages of a batch run concurrently (each is one receiver's POST, up to 10 s). A failed attempt
 * is not a failed message: the attempt is recorded and the next one queued with `delaySeconds`
 * (every delay in the schedule fits the 12-hour limit), and the message is acked. A message
 * throws only when D1 or the queue failed; the queue then retries it. The sweep re-queues any
 * pending delivery that is more than a minute overdue (a lost or failed send only delays it) and
 * asks for fan-out where an endpoint's cursor is behind the tenant's feed.
 */
import { and, eq, lt, sql } from "drizzle-orm";
import { systemClock, type Clock } from "../core/context";
import { tenantShardDbs } from "../shards/directory";
import { events } from "../db/schema";
import type { Db, Env } from "../env";
import { attemptDelivery } from "./deliver";
import { requestFanout, runFanout } from "./fanout";
import type { WebhookMessage } from "./messages";
import { QUEUE_MAX_DELAY_SECONDS } from "./schedule";
import { webhookDeliveries, webhookEndpoints } from "../db/schema";

const OVERDUE_MS = 60_000;
const SWEEP_MAX = 500;

/** Queues the attempt due at `dueAt` (epoch ms). */
export async function queueAttempt(env: Env, tenantId: string, deliveryId: string, dueAt: number, now: number): Promise<void> {
  const delaySeconds = Math.min(QUEUE_MAX_DELAY_SECONDS, Math.max(0, Math.ceil((dueAt - now) / 1000)));
  await env.WEBHOOKS_QUEUE.send({ t: "deliver", tenantId, deliveryId }, delaySeconds > 0 ? { delaySeconds } : undefined);
}

export async function handleWebhookMessage(env: Env, db: Db, clock: Clock, body: WebhookMessage): Promise<void> {
  if (body.t === "fanout") {
    await runFanout(env, db, body.tenantId, clock.now());
    return;
  }
  const outcome = await attemptDelivery({ env, db, clock }, body.tenantId, body.deliveryId);
  if (outcome.result === "retry" && outcome.nextAttemptAt !== undefined) await queueAttempt(env, body.tenantId, body.deliveryId, outcome.nextAttemptAt, clock.now());
}

export async function consumeWebhooks(batch: MessageBatch<WebhookMessage>, env: Env, clock: Clock = systemClock): Promise<void> {
  await Promise.all(
    batch.messages.map(async (msg) => {
      try {
        // Every message is one tenant's: its endpoints, deliveries and feed live on its shard.
        const { db } = await tenantShardDbs(env, msg.body.tenantId);
        await handleWebhookMessage(env, db, clock, msg.body);
        msg.ack();
      } catch (err) {
        // Ids only: never the payload (personal data) or a secret.
        console.error("webhooks consumer: message failed", { t: msg.body.t, tenantId: msg.body.tenantId, attempts: msg.attempts, error: err instanceof Error ? err.message : String(err) });
        msg.retry({ delaySeconds: Math.min(60, 5 * msg.attempts) });
      }
    }),
  );
}

export async function sweepWebhooks(env: Env, db: Db, now = Date.now()): Promise<{ requeued: number; fanouts: number }> {
  const [overdue, lagging] = await db.batch([
    db
      .select({ tenantId: webhookDeliveries.tenantId, id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.status, "pending"), lt(webhookDeliveries.nextAttemptAt, now - OVERDUE_MS)))
      .limit(SWEEP_MAX),
    db
      .selectDistinct({ tenantId: webhookEndpoints.tenantId })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.enabled, true), sql`${webhookEndpoints.cursorSeq} < (SELECT coalesce(max(${events.seq}), 0) FROM ${events} WHERE ${events.tenantId} = ${webhookEndpoints.tenantId})`))
      .limit(SWEEP_MAX),
  ]);
  for (let i = 0; i < overdue.length; i += 100) {
    const chunk = overdue.slice(i, i + 100);
    await env.WEBHOOKS_QUEUE.sendBatch(chunk.map((d) => ({ body: { t: "deliver" as const, tenantId: d.tenantId, deliveryId: d.id } })));
    // Due now: the attempt accepts the message, and the next sweep leaves it alone for a minute.
    const updates = chunk.map((d) =>
      db.update(webhookDeliveries).set({ nextAttemptAt: now }).where(and(eq(webhookDeliveries.tenantId, d.tenantId), eq(webhookDeliveries.id, d.id), eq(webhookDeliveries.status, "pending"))),
    );
    await db.batch(updates as [(typeof updates)[number], ...typeof updates]);
  }
  await requestFanout(env, lagging.map((l) => l.tenantId));
  if (overdue.length + lagging.length > 0) console.info(`webhooks sweep: re-queued ${overdue.length} delivery(ies), fan-out for ${lagging.length} tenant(s)`);
  return { requeued: overdue.length, fanouts: lagging.length };
}
