/**
 * Fan-out: new feed events -> deliveries. Each enabled endpoint has a cursor into the tenant's feed
 * (seq). One run reads the enabled endpoints and the next page of events after the smallest
 * cursor (one D1 round trip), inserts a delivery per (endpoint, subscribed event) and moves the
 * cursors (a second round trip), then queues the new deliveries. Because D1 commits writes one at
 * a time and seq is assigned in the write's transaction, reading by seq never skips an event.
 *
 * Runs are asked for after every commit (dispatch.ts), after the events consumer (whose effects
 * write membership events) and by the every-minute sweep; a lost request only delays delivery.
 * Concurrent runs are harmless: delivery ids are deterministic and inserted ON CONFLICT DO NOTHING
 * RETURNING, so only the run that created a delivery queues it.
 */
import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { events } from "../db/schema";
import type { Db, Env } from "../env";
import { sha256Hex } from "../lib/crypto";
import { matchesSubscription } from "./patterns";
import { webhookDeliveries, webhookEndpoints } from "../db/schema";

/** Events per run; a full page asks for another run at once. */
const PAGE = 100;
/** An insert of deliveries binds up to 11 values per row: stay under D1's 100 bound parameters. */
const ROWS_PER_INSERT = 8;
export const MAX_ENDPOINTS_PER_TENANT = 20;

/** The webhook-id of an event's delivery to an endpoint: the same however often it is planned. */
export async function deliveryIdOf(endpointId: string, eventId: string): Promise<string> {
  return `msg_${(await sha256Hex(`${endpointId}:${eventId}`)).slice(0, 32)}`;
}

/** Asks for fan-out runs (never throws: the sweep catches up whatever is not asked for). */
export async function requestFanout(env: Env, tenantIds: string[]): Promise<void> {
  const unique = [...new Set(tenantIds)];
  if (unique.length === 0 || !env.WEBHOOKS_QUEUE) return;
  try {
    await env.WEBHOOKS_QUEUE.sendBatch(unique.map((tenantId) => ({ body: { t: "fanout" as const, tenantId } })));
  } catch (err) {
    console.warn("webhooks: fan-out request failed; the sweep will catch up", { error: String(err) });
  }
}

export async function runFanout(env: Env, db: Db, tenantId: string, now: number): Promise<number> {
  const enabled = and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.enabled, true));
  const from = sql`(SELECT coalesce(min(${webhookEndpoints.cursorSeq}), 9007199254740991) FROM ${webhookEndpoints} WHERE ${enabled})`;
  const [endpoints, page] = await db.batch([
    db.select({ id: webhookEndpoints.id, events: webhookEndpoints.events, cursorSeq: webhookEndpoints.cursorSeq }).from(webhookEndpoints).where(enabled).limit(MAX_ENDPOINTS_PER_TENANT),
    db
      .select({ seq: events.seq, id: events.id, type: events.type })
      .from(events)
      .where(and(eq(events.tenantId, tenantId), gt(events.seq, from)))
      .orderBy(asc(events.seq))
      .limit(PAGE),
  ]);
  if (endpoints.length === 0 || page.length === 0) return 0;
  const lastSeq = page[page.length - 1]!.seq;
  const rows: (typeof webhookDeliveries.$inferInsert)[] = [];
  for (const endpoint of endpoints) {
    const patterns = JSON.parse(endpoint.events) as string[];
    for (const event of page) {
      if (event.seq <= endpoint.cursorSeq || !matchesSubscription(event.type, patterns)) continue;
      rows.push({
        tenantId,
        id: await deliveryIdOf(endpoint.id, event.id),
        endpointId: endpoint.id,
        eventId: event.id,
        eventSeq: event.seq,
        eventType: event.type,
        nextAttemptAt: now,
        createdAt: now,
      });
    }
  }
  const statements: BatchItem<"sqlite">[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    statements.push(db.insert(webhookDeliveries).values(rows.slice(i, i + ROWS_PER_INSERT)).onConflictDoNothing().returning({ id: webhookDeliveries.id }));
  }
  // Cursors only move forward, whichever run commits first, and only for the endpoints planned
  // here (one created meanwhile keeps its own cursor).
  statements.push(
    db
      .update(webhookEndpoints)
      .set({ cursorSeq: sql`max(${webhookEndpoints.cursorSeq}, ${lastSeq})` })
      .where(and(enabled, inArray(webhookEndpoints.id, endpoints.map((e) => e.id)), sql`${webhookEndpoints.cursorSeq} < ${lastSeq}`)),
  );
  const results = (await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as unknown[];
  const created = results.slice(0, -1).flatMap((r) => r as Array<{ id: string }>);
  for (let i = 0; i < created.length; i += 100) {
    await env.WEBHOOKS_QUEUE.sendBatch(created.slice(i, i + 100).map((d) => ({ body: { t: "deliver" as const, tenantId, deliveryId: d.id } })));
  }
  if (page.length === PAGE) await requestFanout(env, [tenantId]);
  return created.length;
}
