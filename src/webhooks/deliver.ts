/**
 * One delivery attempt: read (one D1 round trip), sign, POST, record (one round trip). The caller
 * (queue.ts) queues the next attempt with the returned delay. Time comes from the injected clock,
 * so tests step through the whole schedule without waiting.
 *
 * Outcomes: a 2xx is delivered. 410 Gone disables the endpoint at once. Anything else (other
 * statuses, timeouts, connection errors) is retried on the schedule (schedule.ts) and, when the
 * schedule is over, the delivery is failed. An endpoint that has seen nothing but failures for five
 * days is disabled. Both disables put a `webhook.disabled` event in the feed.
 */
import { and, eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Clock } from "../core/context";
import { events } from "../db/schema";
import type { Db, Env } from "../env";
import { toFeedEvent } from "../events/feed-shape";
import { insertEventIfPreviousChangedOneRow } from "../events/outbox";
import { uuidv7 } from "../lib/ids";
import { decryptSecret } from "./secrets";
import { DISABLE_AFTER_FAILING_MS, retryDelayMs } from "./schedule";
import { signMessage } from "./sign";
import { postWebhook } from "./transport";
import { allowLocalUrls, webhookUrlProblem } from "./url-policy";
import { webhookDeliveries, webhookEndpoints } from "../db/schema";

type Endpoint = typeof webhookEndpoints.$inferSelect;

/** A message may arrive this much before its due time (queue delays are rounded to seconds). */
const EARLY_TOLERANCE_MS = 5_000;

export interface DeliveryDeps {
  env: Env;
  db: Db;
  clock: Clock;
}

export interface AttemptOutcome {
  /** What happened: skipped when the delivery was not due (already done, or a stale duplicate). */
  result: "delivered" | "retry" | "failed" | "skipped";
  /** For `retry`: when the next attempt is due (epoch ms). */
  nextAttemptAt?: number;
}

/** The secrets that sign now: the current one, and the previous one during a rotation's overlap. */
export async function signingSecrets(env: Env, endpoint: Endpoint, now: number): Promise<string[]> {
  const owner = { tenantId: endpoint.tenantId, endpointId: endpoint.id };
  const secrets = [await decryptSecret(env, owner, endpoint.secret)];
  if (endpoint.previousSecret && (endpoint.previousSecretExpiresAt ?? 0) > now) secrets.push(await decryptSecret(env, owner, endpoint.previousSecret));
  return secrets;
}

function disable(db: Db, endpoint: Endpoint, reason: "gone" | "failing", now: number, detail: string): BatchItem<"sqlite">[] {
  return [
    db
      .update(webhookEndpoints)
      .set({ enabled: false, disabledReason: reason, disabledAt: now, updatedAt: now })
      .where(and(eq(webhookEndpoints.tenantId, endpoint.tenantId), eq(webhookEndpoints.id, endpoint.id), eq(webhookEndpoints.enabled, true))),
    // Only when this batch is the one that disabled it (a concurrent attempt may have).
    insertEventIfPreviousChangedOneRow(db, {
      id: uuidv7(now),
      tenantId: endpoint.tenantId,
      type: "webhook.disabled",
      subjectId: endpoint.id,
      data: { endpointId: endpoint.id, url: endpoint.url, reason, detail },
      createdAt: now,
      status: "processed",
    }),
  ];
}

export async function attemptDelivery(deps: DeliveryDeps, tenantId: string, deliveryId: string): Promise<AttemptOutcome> {
  const { env, db } = deps;
  const ofDelivery = and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.id, deliveryId));
  const [deliveries, endpoints, eventRows] = await db.batch([
    db.select().from(webhookDeliveries).where(ofDelivery),
    db
      .select()
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.tenantId, tenantId), sql`${webhookEndpoints.id} = (SELECT endpoint_id FROM ${webhookDeliveries} WHERE ${ofDelivery})`)),
    db
      .select()
      .from(events)
      .where(and(eq(events.tenantId, tenantId), sql`${events.id} = (SELECT event_id FROM ${webhookDeliveries} WHERE ${ofDelivery})`)),
  ]);
  const delivery = deliveries[0];
  const now = deps.clock.now();
  if (!delivery || delivery.status !== "pending" || (delivery.nextAttemptAt ?? 0) > now + EARLY_TOLERANCE_MS) return { result: "skipped" };
  // Every write below is conditional on the attempt count read here: a duplicate message racing
  // this one records nothing twice.
  const unchanged = and(ofDelivery, eq(webhookDeliveries.attempts, delivery.attempts));
  const endpoint = endpoints[0];
  const event = eventRows[0];
  const refusal = !endpoint ? "the endpoint was deleted" : !endpoint.enabled ? "the endpoint is disabled" : !event ? "the event no longer exists" : webhookUrlProblem(endpoint.url, allowLocalUrls(env));
  if (refusal || !endpoint || !event) {
    await db.update(webhookDeliveries).set({ status: "failed", nextAttemptAt: null, lastError: `not sent: ${refusal}` }).where(unchanged);
    return { result: "failed" };
  }

  const body = JSON.stringify(toFeedEvent(event));
  const headers = signMessage(await signingSecrets(env, endpoint, now), delivery.id, now, body);
  const attempt = await postWebhook(endpoint.url, { ...headers }, body);
  const ok = attempt.status !== null && attempt.status >= 200 && attempt.status < 300;
  const gone = attempt.status === 410;
  const delay = ok || gone ? null : retryDelayMs(delivery.id, delivery.retries);
  const recorded = { attempts: delivery.attempts + 1, lastAttemptAt: now, lastStatus: attempt.status, lastDurationMs: attempt.durationMs, lastError: attempt.error };

  const statements: BatchItem<"sqlite">[] = [];
  let outcome: AttemptOutcome;
  if (ok) {
    statements.push(db.update(webhookDeliveries).set({ ...recorded, status: "delivered", deliveredAt: now, nextAttemptAt: null }).where(unchanged));
    statements.push(db.update(webhookEndpoints).set({ failingSince: null }).where(and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.id, endpoint.id))));
    outcome = { result: "delivered" };
  } else {
    outcome = delay === null ? { result: "failed" } : { result: "retry", nextAttemptAt: now + delay };
    statements.push(
      db
        .update(webhookDeliveries)
        .set({ ...recorded, status: delay === null ? "failed" : "pending", retries: delivery.retries + 1, nextAttemptAt: outcome.nextAttemptAt ?? null })
        .where(unchanged),
    );
    statements.push(
      db
        .update(webhookEndpoints)
        .set({ failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${now})` })
        .where(and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.id, endpoint.id))),
    );
    if (gone) statements.push(...disable(db, endpoint, "gone", now, "the receiver answered 410 Gone"));
    else if (endpoint.failingSince !== null && now - endpoint.failingSince >= DISABLE_AFTER_FAILING_MS) {
      statements.push(...disable(db, endpoint, "failing", now, "every attempt failed for 5 days"));
    }
  }
  await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  return outcome;
}
