/**
 * Where a new tenant goes, and what each shard holds. `dataRegion` picks the least-full shard of
 * that region (bytes first: the 10 GB cap is what fills; then tenants; then name, so the choice
 * is deterministic); `shard` names one. Neither: the default shard, as before shards existed.
 */
import { count, eq, isNull, or } from "drizzle-orm";
import { tenants } from "../db/schema";
import type { Db, Env } from "../env";
import { ApiError } from "../http/errors";
import { defaultShard, findShard, shardBinding, shardList, type ShardConfig } from "./config";

export interface ShardStats {
  name: string;
  region: string;
  jurisdiction: string | null;
  default: boolean;
  tenants: number;
  users: number;
  sizeBytes: number;
}

/** Tenants per shard name, from the platform directory (NULL counts for the default shard). */
async function tenantCounts(db: Db, env: Env): Promise<Map<string, number>> {
  const rows = await db.select({ shard: tenants.shard, n: count() }).from(tenants).groupBy(tenants.shard).all();
  const out = new Map<string, number>();
  const fallback = defaultShard(env).name;
  for (const r of rows) out.set(r.shard ?? fallback, (out.get(r.shard ?? fallback) ?? 0) + r.n);
  return out;
}

/** One round trip per shard, all concurrent: user count and the database size D1 reports. */
async function shardSize(env: Env, shard: ShardConfig): Promise<{ users: number; sizeBytes: number }> {
  const result = await shardBinding(env, shard).prepare("SELECT count(*) AS n FROM users").all<{ n: number }>();
  return { users: result.results[0]?.n ?? 0, sizeBytes: Number(result.meta.size_after ?? 0) };
}

export async function shardStats(db: Db, env: Env, only?: ShardConfig[]): Promise<ShardStats[]> {
  const list = only ?? shardList(env);
  const [counts, sizes] = await Promise.all([tenantCounts(db, env), Promise.all(list.map((s) => shardSize(env, s)))]);
  const fallback = defaultShard(env).name;
  return list.map((s, i) => ({
    name: s.name,
    region: s.region,
    jurisdiction: s.jurisdiction ?? null,
    default: s.name === fallback,
    tenants: counts.get(s.name) ?? 0,
    ...sizes[i]!,
  }));
}

/** Validates the request's placement and picks the shard. */
export async function placeTenant(db: Db, env: Env, request: { dataRegion?: string; shard?: string }): Promise<ShardConfig> {
  if (request.shard !== undefined) {
    const shard = findShard(env, request.shard);
    if (!shard) {
      const names = shardList(env).map((s) => s.name).join(", ");
      throw new ApiError("validation_failed", `No shard is named '${request.shard}'. Shards: ${names}.`, { errors: [{ path: "shard", message: `must be one of: ${names}` }] });
    }
    if (request.dataRegion !== undefined && shard.region !== request.dataRegion) {
      throw new ApiError("validation_failed", `Shard '${shard.name}' is in region '${shard.region}', not '${request.dataRegion}'. Send one of the two, or a matching pair.`, {
        errors: [{ path: "dataRegion", message: `does not match shard '${shard.name}' (region '${shard.region}')` }],
      });
    }
    return shard;
  }
  if (request.dataRegion === undefined) return defaultShard(env);
  const candidates = shardList(env).filter((s) => s.region === request.dataRegion);
  if (candidates.length === 0) {
    const regions = [...new Set(shardList(env).map((s) => s.region))].join(", ");
    throw new ApiError("validation_failed", `No shard serves the data region '${request.dataRegion}'. Regions: ${regions}.`, { errors: [{ path: "dataRegion", message: `must be one of: ${regions}` }] });
  }
  if (candidates.length === 1) return candidates[0]!;
  const stats = await shardStats(db, env, candidates);
  stats.sort((a, b) => a.sizeBytes - b.sizeBytes || a.tenants - b.tenants || a.name.localeCompare(b.name));
  return candidates.find((s) => s.name === stats[0]!.name)!;
}

/** The platform row's shard condition (NULL is the default shard), for directory queries. */
export function onShard(env: Env, name: string) {
  return name === defaultShard(env).name ? or(eq(tenants.shard, name), isNull(tenants.shard)) : eq(tenants.shard, name);
}
