/**
 * tenant id -> shard for work that does not come through a host (queue consumer, cron), cached
 * per isolate like host -> tenant. An event message names the shard its event was committed on,
 * which spares the lookup; a stale hint (the tenant moved since) is safe: the old shard keeps a
 * fence for the tenant, so the consumer's write fails and the retry (attempts > 1) asks the
 * directory; an event already deleted there is re-sent from the new shard by that shard's sweep. The database handed out is gated with the move fence, so a
 * consumer that still has the old shard cached is refused (and retried) instead of writing to a
 * shard the tenant has left.
 */
import { eq } from "drizzle-orm";
import { createDb } from "../db/client";
import { gatedD1, type RequestGates } from "../core/request-db";
import { tenants } from "../db/schema";
import type { Db, Env } from "../env";
import { findShard, shardBinding, shardOf, type ShardConfig } from "./config";
import { fenceWrites } from "./fence";

const cache = new Map<string, { shard: ShardConfig; expiresAt: number }>();

export async function shardForTenant(env: Env, tenantId: string): Promise<ShardConfig> {
  const now = Date.now();
  const hit = cache.get(tenantId);
  if (hit && hit.expiresAt > now) return hit.shard;
  const row = await createDb(env.DB).select({ shard: tenants.shard }).from(tenants).where(eq(tenants.id, tenantId)).get();
  // An unknown tenant (deleted since the message was sent) reads as the default shard, where its
  // rows (if any) would have been; the caller finds nothing and acks.
  const shard = shardOf(env, { shard: row?.shard ?? null });
  if (cache.size > 10_000) cache.clear();
  cache.set(tenantId, { shard, expiresAt: now + Number(env.TENANT_CACHE_SECONDS ?? "5") * 1000 });
  return shard;
}

export function forgetTenantShards(): void {
  cache.clear();
}

/**
 * The tenant's shard for background work: `db` has fenced writes; `plain` is the bare binding,
 * for bookkeeping that must not depend on the fence (recording why a message failed).
 */
export async function tenantShardDbs(env: Env, tenantId: string, hint?: string): Promise<{ db: Db; plain: Db }> {
  const shard = (hint !== undefined ? findShard(env, hint) : undefined) ?? (await shardForTenant(env, tenantId));
  const d1 = shardBinding(env, shard);
  const gates: RequestGates = {};
  fenceWrites(gates, d1, tenantId, Number(env.TENANT_CACHE_SECONDS ?? "5"));
  return { db: createDb(gatedD1(d1, gates)), plain: createDb(d1) };
}

export async function tenantShardDb(env: Env, tenantId: string): Promise<Db> {
  return (await tenantShardDbs(env, tenantId)).db;
}

/** A tenant's shard for the platform API, from its platform row (no lookup needed). */
export function tenantShardDbFor(env: Env, tenant: { shard?: string | null }): Db {
  return createDb(shardBinding(env, shardOf(env, tenant)));
}
