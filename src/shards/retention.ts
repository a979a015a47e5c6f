/**
 * Retention: events, their receipts, ended membership history and ended webhook deliveries older than the tenant's window
 * (default 30 days) are deleted by the 5-minute cron in bounded batches, so no run holds a shard
 * for long and a large backlog drains over several runs. Only delivered events go (processed or
 * failed): the outbox never loses an event its effects still wait for. The highest pruned seq is
 * recorded in feed_horizons so the feed can answer an older cursor with 410 cursor_expired.
 * Tenants in the middle of a move are skipped until it ends (the move compares both shards).
 */
import { asc, gt, inArray } from "drizzle-orm";
import { createDb } from "../db/client";
import { tenantMoves, tenants } from "../db/schema";
import type { Env } from "../env";
import { shardBinding, shardOf } from "./config";
import { DEFAULT_RETENTION_DAYS } from "./tenant-view";

const DAY_MS = 86_400_000;
const BATCH_ROWS = 500;
/** Batches per tenant per run and per run overall: bounded work, the next run continues. */
const TENANT_BATCHES = 20;
const RUN_BATCHES = 400;

export interface PruneResult {
  events: number;
  receipts: number;
  memberships: number;
  idempotency: number;
  deliveries: number;
}

/** Prunes one tenant on its shard; returns what went (test hook and cron both use it). */
export async function pruneTenant(d1: D1Database, tenantId: string, retentionDays: number, now: number, maxBatches = TENANT_BATCHES): Promise<PruneResult> {
  const cutoff = now - retentionDays * DAY_MS;
  const out: PruneResult = { events: 0, receipts: 0, memberships: 0, idempotency: 0, deliveries: 0 };
  for (let i = 0; i < maxBatches; i++) {
    const [evs, receipts, memberships, idempotency, deliveries] = await d1.batch<{ seq?: number }>([
      d1.prepare(
        `DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE tenant_id = ? AND created_at < ? AND status IN ('processed', 'failed') ORDER BY seq LIMIT ${BATCH_ROWS}) RETURNING seq`,
      ).bind(tenantId, cutoff),
      d1.prepare(`DELETE FROM event_receipts WHERE rowid IN (SELECT rowid FROM event_receipts WHERE tenant_id = ? AND processed_at < ? LIMIT ${BATCH_ROWS})`).bind(tenantId, cutoff),
      d1.prepare(`DELETE FROM memberships WHERE rowid IN (SELECT rowid FROM memberships WHERE tenant_id = ? AND ended_at IS NOT NULL AND ended_at < ? LIMIT ${BATCH_ROWS})`).bind(tenantId, cutoff),
      d1.prepare(`DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE tenant_id = ? AND created_at < ? LIMIT ${BATCH_ROWS})`).bind(tenantId, Math.max(cutoff, now - DAY_MS)),
      // Webhook deliveries that ended (delivered or given up) go with their window; pending ones stay.
      d1.prepare(`DELETE FROM webhook_deliveries WHERE rowid IN (SELECT rowid FROM webhook_deliveries WHERE tenant_id = ? AND created_at < ? AND status IN ('delivered', 'failed') LIMIT ${BATCH_ROWS})`).bind(tenantId, cutoff),
    ]);
    const seqs = evs!.results.map((r) => r.seq ?? 0);
    if (seqs.length > 0) {
      await d1
        .prepare(
          "INSERT INTO feed_horizons (tenant_id, pruned_through_seq, pruned_at) VALUES (?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET pruned_through_seq = max(pruned_through_seq, excluded.pruned_through_seq), pruned_at = excluded.pruned_at",
        )
        .bind(tenantId, Math.max(...seqs), now)
        .run();
    }
    out.events += seqs.length;
    out.receipts += receipts!.meta.changes ?? 0;
    out.memberships += memberships!.meta.changes ?? 0;
    out.idempotency += idempotency!.meta.changes ?? 0;
    out.deliveries += deliveries!.meta.changes ?? 0;
    const full = seqs.length === BATCH_ROWS || [receipts, memberships, idempotency, deliveries].some((r) => (r!.meta.changes ?? 0) === BATCH_ROWS);
    if (!full) break;
  }
  return out;
}

/** The cron: every tenant, in slug order, on its own shard, within one bounded budget. */
export async function pruneAllShards(env: Env, now = Date.now()): Promise<PruneResult> {
  const db = createDb(env.DB);
  const total: PruneResult = { events: 0, receipts: 0, memberships: 0, idempotency: 0, deliveries: 0 };
  const moving = new Set(
    (await db.select({ tenantId: tenantMoves.tenantId }).from(tenantMoves).where(inArray(tenantMoves.status, ["copying", "verifying", "cleanup"])).all()).map((m) => m.tenantId),
  );
  let after = "";
  let budget = RUN_BATCHES;
  while (budget > 0) {
    const page = await db.select().from(tenants).where(gt(tenants.slug, after)).orderBy(asc(tenants.slug)).limit(100).all();
    for (const t of page) {
      if (moving.has(t.id) || budget <= 0) continue;
      const r = await pruneTenant(shardBinding(env, shardOf(env, t)), t.id, t.eventRetentionDays ?? DEFAULT_RETENTION_DAYS, now, Math.min(TENANT_BATCHES, budget));
      budget -= 1 + Math.floor((r.events + r.receipts + r.memberships) / BATCH_ROWS);
      for (const k of Object.keys(total) as (keyof PruneResult)[]) total[k] += r[k];
    }
    if (page.length < 100) break;
    after = page[page.length - 1]!.slug;
  }
  return total;
}
