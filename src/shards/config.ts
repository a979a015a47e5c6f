/**
 * The shard list. Shards are D1 bindings, so the list lives next to them in wrangler.toml (the
 * SHARDS variable); the platform database holds the directory (tenants.shard). The DB binding is
 * the platform database AND a shard: a single-database deployment is a one-shard deployment and
 * keeps working without any data migration (tenants.shard NULL means the default shard).
 */
import type { Env } from "../env";

export interface ShardConfig {
  /** Stable name, stored in tenants.shard and shown by the platform API. */
  name: string;
  /** The D1 binding in wrangler.toml. */
  binding: string;
  /** The data region (e.g. "eu" for a database created with --jurisdiction eu). */
  region: string;
  /** Where the region's guarantee comes from, shown by GET /platform/shards. */
  jurisdiction?: string;
}

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const parsed = new WeakMap<object, ShardConfig[]>();

/** Reads SHARDS (JSON list); without it the deployment has one shard: DB, named "default". */
export function shardList(env: Env): ShardConfig[] {
  const cached = parsed.get(env);
  if (cached) return cached;
  const raw = env.SHARDS;
  let list: ShardConfig[];
  if (!raw) list = [{ name: "default", binding: "DB", region: env.DEFAULT_DATA_REGION ?? "default" }];
  else {
    const value = (typeof raw === "string" ? JSON.parse(raw) : raw) as ShardConfig[];
    if (!Array.isArray(value) || value.length === 0) throw new Error("SHARDS must be a non-empty JSON list");
    for (const s of value) {
      if (!NAME_RE.test(s.name) || typeof s.binding !== "string" || typeof s.region !== "string") throw new Error(`SHARDS: bad entry ${JSON.stringify(s)}`);
    }
    list = value;
  }
  parsed.set(env, list);
  return list;
}

/** The shard a tenant with tenants.shard NULL lives on: the one bound to DB (or the first). */
export function defaultShard(env: Env): ShardConfig {
  const list = shardList(env);
  return list.find((s) => s.binding === "DB") ?? list[0]!;
}

export function findShard(env: Env, name: string | null | undefined): ShardConfig | undefined {
  if (name == null) return defaultShard(env);
  return shardList(env).find((s) => s.name === name);
}

/** The shard's D1 binding; throws when wrangler.toml lacks it (a deployment error, not a client's). */
export function shardBinding(env: Env, shard: ShardConfig): D1Database {
  const d1 = (env as unknown as Record<string, unknown>)[shard.binding] as D1Database | undefined;
  if (!d1 || typeof d1.prepare !== "function") throw new Error(`shard '${shard.name}': binding ${shard.binding} is missing from wrangler.toml`);
  return d1;
}

/** The tenant's shard; a name no longer configured is a deployment error and fails loudly. */
export function shardOf(env: Env, tenant: { shard?: string | null }): ShardConfig {
  const shard = findShard(env, tenant.shard);
  if (!shard) throw new Error(`tenant shard '${tenant.shard}' is not configured in SHARDS`);
  return shard;
}
