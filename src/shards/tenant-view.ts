/**
 * The sharding part of a tenant's platform JSON (placement, retention, the latest move) and of
 * tenant creation (the tenant's rows on its shard). Kept here so src/platform/tenants.ts only
 * calls in.
 */
import { adminEvent } from "../audit/admin-events";
import { bindActor, SYSTEM_ACTOR, type Actor } from "../audit/actor";
import { z } from "@hono/zod-openapi";
import { and, desc, eq } from "drizzle-orm";
import { createDb } from "../db/client";
import { apiTokens, tenantMoves, tenants } from "../db/schema";
import type { Db, Env } from "../env";
import { shardBinding, shardOf, type ShardConfig } from "./config";

export const DEFAULT_RETENTION_DAYS = 30;
export const MAX_RETENTION_DAYS = 3650;

export const MoveSchema = z
  .object({
    id: z.string(),
    from: z.string(),
    to: z.string(),
    status: z.enum(["copying", "verifying", "cleanup", "done", "failed"]),
    progress: z.record(z.string(), z.unknown()).openapi({ description: "Rows copied and verified per table; the step in progress." }),
    error: z.string().nullable(),
    startedAt: z.string(),
    fencedAt: z.string().nullable().openapi({ description: "When writes were paused (503 + Retry-After) for the final verification." }),
    cutoverAt: z.string().nullable().openapi({ description: "When the tenant's requests switched to the new shard; writes resumed then." }),
    finishedAt: z.string().nullable(),
  })
  .openapi("TenantMove");

export const tenantShardFields = {
  dataRegion: z.string().openapi({ description: "Where the tenant's data rests: the region of its shard (README, Operations)." }),
  shard: z.string().openapi({ description: "The shard database holding the tenant's data." }),
  eventRetentionDays: z.number().int().openapi({ description: "Days events, receipts and ended membership history are kept (default 30)." }),
  move: MoveSchema.nullable().openapi({ description: "The latest move of this tenant, if any." }),
};

export const placementFields = {
  dataRegion: z.string().max(32).optional().openapi({ description: "Place the tenant on the least-full shard of this region (GET /platform/shards lists them)." }),
  shard: z.string().max(63).optional().openapi({ description: "Place the tenant on this shard." }),
};

export const retentionField = {
  eventRetentionDays: z
    .number({ error: "must be a whole number of days" })
    .int("must be a whole number of days")
    .min(1, "must be at least 1")
    .max(MAX_RETENTION_DAYS, `must be at most ${MAX_RETENTION_DAYS}`)
    .nullable()
    .optional()
    .openapi({ description: "Days events are kept; null restores the default (30)." }),
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
type TenantRow = typeof tenants.$inferSelect;
type MoveRow = typeof tenantMoves.$inferSelect;

export function moveView(m: MoveRow) {
  let progress: Record<string, unknown> = {};
  try {
    progress = JSON.parse(m.progress) as Record<string, unknown>;
  } catch {
    // A progress document is written only by the runner; an unreadable one shows as empty.
  }
  return {
    id: m.id,
    from: m.fromShard,
    to: m.toShard,
    status: m.status,
    progress,
    error: m.error,
    startedAt: iso(m.startedAt)!,
    fencedAt: iso(m.fencedAt),
    cutoverAt: iso(m.cutoverAt),
    finishedAt: iso(m.finishedAt),
  };
}

export async function latestMove(db: Db, tenantId: string): Promise<MoveRow | undefined> {
  return db.select().from(tenantMoves).where(eq(tenantMoves.tenantId, tenantId)).orderBy(desc(tenantMoves.startedAt)).limit(1).get();
}

export async function tenantShardView(db: Db, env: Env, row: TenantRow) {
  const shard = shardOf(env, row);
  const move = await latestMove(db, row.id);
  return {
    dataRegion: shard.region,
    shard: shard.name,
    eventRetentionDays: row.eventRetentionDays ?? DEFAULT_RETENTION_DAYS,
    move: move ? moveView(move) : null,
  };
}

/**
 * The tenant's rows on its shard: a copy of the tenant row (the shard's foreign keys point at
 * `tenants`; nothing reads it, the platform row is the truth) and the first token. When the shard
 * is the platform database itself, the copy is the platform row and is ignored.
 */
export async function createOnShard(env: Env, shard: ShardConfig, row: TenantRow, token: typeof apiTokens.$inferInsert, audit?: { view: object; actor: Actor }): Promise<void> {
  const db = bindActor(createDb(shardBinding(env, shard)), audit?.actor ?? SYSTEM_ACTOR);
  await db.batch([
    db.insert(tenants).values(row).onConflictDoNothing(),
    db.insert(apiTokens).values(token),
    // The first token's creation opens the tenant's audit trail (src/audit/).
    adminEvent({ db, tenantId: row.id }, "api_token.created", token.id, { apiToken: audit?.view ?? { id: token.id, name: token.name } }, row.createdAt),
  ]);
}

/** Undoes the platform row when the shard refused the tenant (creation is not one transaction). */
export async function forgetTenant(db: Db, id: string): Promise<void> {
  await db.delete(tenants).where(and(eq(tenants.id, id))).run();
}
