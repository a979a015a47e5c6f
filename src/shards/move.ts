/**
 * Online moves of a tenant between shards: a state machine in `tenant_moves`, advanced by queue
 * messages ({t:"move"}) in bounded steps, resumed by the minute cron if a step is lost.
 *
 *  copying    pass 1 of the sync (src/shards/sync.ts): every row copied, in bounded chunks
 *  verifying  pass 2 online (catches up with writes made meanwhile), then the FENCE on the source
 *             (writes 503 + Retry-After, reads untouched), then passes until one finds no
 *             difference and the row counts agree: that pass is the verification
 *  cut-over   tenants.shard := target in the platform database; writes resume on the target
 *  cleanup    after the host -> shard caches have expired, the source rows are deleted
 *
 * Any failure before the cut-over clears the fence and marks the move failed: the source was never
 * written by the move, so the tenant is whole there. Rows the move left on the target are
 * invisible (the directory never pointed there) and are removed best-effort.
 */
import { and, eq } from "drizzle-orm";
import { createDb } from "../db/client";
import { tenantMoves, tenants } from "../db/schema";
import type { Env } from "../env";
import { forgetCachedHosts } from "../tenancy/resolve";
import { findShard, shardBinding } from "./config";
import { forgetTenantShards } from "./directory";
import { CLEAR_FENCE_SQL, SET_FENCE_SQL } from "./fence";
import { translateFeedPositions } from "./feed-positions";
import { countRows, deleteChunk, fnv1a, syncChunk } from "./sync";
import { TENANT_TABLES } from "./tables";

type MoveRow = typeof tenantMoves.$inferSelect;
export interface MoveProgress {
  phase: "copy" | "catchup" | "final";
  pass: number;
  table: number;
  after: string | number | null;
  differences: number;
  checksum: number;
  copied: Record<string, number>;
  verified: Record<string, { rows: number; checksum: string }>;
  checksums: Record<string, number>;
}

/** Chunks per step: well inside one invocation's 1,000 subrequests. */
const STEP_CHUNKS = 60;
const MAX_FINAL_PASSES = 4;

export function initialProgress(): MoveProgress {
  return { phase: "copy", pass: 1, table: 0, after: null, differences: 0, checksum: 0x811c9dc5, copied: {}, verified: {}, checksums: {} };
}

function cacheMs(env: Env): number {
  return (Number(env.TENANT_CACHE_SECONDS ?? "5") + 1) * 1000;
}

async function send(env: Env, move: MoveRow, delaySeconds = 0): Promise<void> {
  await env.EVENTS_QUEUE.send({ t: "move", tenantId: move.tenantId, moveId: move.id }, delaySeconds > 0 ? { delaySeconds } : undefined);
}

/** Saves the move if nobody else advanced it meanwhile (a resumed step racing a queued one). */
async function save(env: Env, move: MoveRow, patch: Partial<MoveRow>): Promise<MoveRow | null> {
  const db = createDb(env.DB);
  const next = { ...move, ...patch, updatedAt: Math.max(Date.now(), move.updatedAt + 1) };
  const done = await db.update(tenantMoves).set(next).where(and(eq(tenantMoves.id, move.id), eq(tenantMoves.updatedAt, move.updatedAt))).returning({ id: tenantMoves.id }).all();
  return done.length ? next : null;
}

export async function runMoveStep(env: Env, moveId: string): Promise<void> {
  const db = createDb(env.DB);
  const move = await db.select().from(tenantMoves).where(eq(tenantMoves.id, moveId)).get();
  if (!move || move.status === "done" || move.status === "failed") return;
  if (move.status === "cleanup") return cleanup(env, move);
  try {
    await advance(env, move);
  } catch (err) {
    console.error("move failed; the tenant stays on its source shard", { moveId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    await fail(env, move, err instanceof Error ? err.message.slice(0, 300) : "unknown error");
  }
}

async function advance(env: Env, move: MoveRow): Promise<void> {
  const source = shardBinding(env, findShard(env, move.fromShard)!);
  const target = shardBinding(env, findShard(env, move.toShard)!);
  const p = JSON.parse(move.progress) as MoveProgress;
  if (p.phase === "copy" && p.table === 0 && p.after === null) await copyTenantRow(env, move, target);
  for (let chunks = 0; chunks < STEP_CHUNKS; chunks++) {
    const table = TENANT_TABLES[p.table];
    if (!table) {
      const next = await endOfPass(env, move, p, source, target);
      if (next === "stop") return;
      continue;
    }
    const r = await syncChunk(source, target, table, move.tenantId, p.after, true);
    p.differences += r.differences;
    p.checksum = fnv1a(String(r.checksum), p.checksum);
    if (p.phase === "copy") p.copied[table.name] = (p.copied[table.name] ?? 0) + r.rows;
    p.after = r.after;
    if (r.after === null) {
      p.checksums[table.name] = p.checksum;
      p.table += 1;
      p.checksum = 0x811c9dc5;
    }
  }
  const saved = await save(env, move, { progress: JSON.stringify(p), status: p.phase === "copy" ? "copying" : "verifying" });
  if (saved) await send(env, saved);
}

/** The shard's copy of the tenant row, which its foreign keys point at (src/shards/tenant-view.ts). */
async function copyTenantRow(env: Env, move: MoveRow, target: D1Database): Promise<void> {
  const row = await createDb(env.DB).select().from(tenants).where(eq(tenants.id, move.tenantId)).get();
  if (!row) throw new Error("the tenant no longer exists");
  await createDb(target).insert(tenants).values(row).onConflictDoNothing().run();
}

/** Decides what follows a complete pass; "stop" when this step has handed over or finished. */
async function endOfPass(env: Env, move: MoveRow, p: MoveProgress, source: D1Database, target: D1Database): Promise<"stop" | "again"> {
  const restart = () => Object.assign(p, { table: 0, after: null, differences: 0, checksum: 0x811c9dc5, checksums: {} });
  if (p.phase === "copy") {
    restart();
    p.phase = "catchup";
    return "again";
  }
  if (p.phase === "catchup") {
    // The fence: from its commit on, no write for this tenant lands on the source.
    const now = Date.now();
    await source.prepare(SET_FENCE_SQL).bind(move.tenantId, `move ${move.id}`, now).run();
    move.fencedAt = now;
    restart();
    p.phase = "final";
    p.pass = 1;
    return "again";
  }
  if (p.differences === 0) {
    const verified: MoveProgress["verified"] = {};
    for (const table of TENANT_TABLES) {
      const [a, b] = await Promise.all([countRows(source, table, move.tenantId), countRows(target, table, move.tenantId)]);
      if (a !== b) throw new Error(`verification failed: ${table.name} has ${a} rows on the source and ${b} on the target`);
      verified[table.name] = { rows: a, checksum: (p.checksums[table.name] ?? 0).toString(16).padStart(8, "0") };
    }
    p.verified = verified;
    await translateFeedPositions(source, target, move.tenantId);
    await cutover(env, move, p);
    return "stop";
  }
  if (p.pass >= MAX_FINAL_PASSES) throw new Error(`verification failed: the target still differed after ${p.pass} passes under the fence`);
  restart();
  p.pass += 1;
  return "again";
}

async function cutover(env: Env, move: MoveRow, p: MoveProgress): Promise<void> {
  const db = createDb(env.DB);
  const now = Date.now();
  // The target must accept the tenant's writes: clear any fence an earlier move left there.
  await shardBinding(env, findShard(env, move.toShard)!).prepare(CLEAR_FENCE_SQL).bind(move.tenantId).run();
  const next = { ...move, progress: JSON.stringify(p), status: "cleanup" as const, cutoverAt: now, updatedAt: Math.max(now, move.updatedAt + 1) };
  await db.batch([
    db.update(tenants).set({ shard: move.toShard }).where(eq(tenants.id, move.tenantId)),
    db.update(tenantMoves).set(next).where(eq(tenantMoves.id, move.id)),
  ]);
  forgetCachedHosts();
  forgetTenantShards();
  await send(env, next, Math.ceil(cacheMs(env) / 1000));
}

/** Deletes the source copy once no isolate can still route the tenant there. */
async function cleanup(env: Env, move: MoveRow): Promise<void> {
  const wait = (move.cutoverAt ?? 0) + cacheMs(env) - Date.now();
  if (wait > 0) return send(env, move, Math.ceil(wait / 1000));
  const source = shardBinding(env, findShard(env, move.fromShard)!);
  let budget = STEP_CHUNKS;
  // Children first (memberships before users), so foreign keys hold at every step. The source
  // keeps its fence for good: a tenant that moves back clears it at its own cut-over.
  for (const table of [...TENANT_TABLES].reverse()) {
    while (budget > 0) {
      budget -= 1;
      if ((await deleteChunk(source, table, move.tenantId)) === 0) break;
    }
    if (budget <= 0) {
      const saved = await save(env, move, {});
      if (saved) await send(env, saved);
      return;
    }
  }
  await save(env, move, { status: "done", finishedAt: Date.now() });
}

async function fail(env: Env, move: MoveRow, reason: string): Promise<void> {
  const source = shardBinding(env, findShard(env, move.fromShard)!);
  await source.prepare(CLEAR_FENCE_SQL).bind(move.tenantId).run();
  await createDb(env.DB).update(tenantMoves).set({ status: "failed", error: reason, finishedAt: Date.now(), updatedAt: Date.now() }).where(eq(tenantMoves.id, move.id)).run();
  // Best effort: the target's partial copy is invisible; a later move to it repairs it anyway.
  const target = shardBinding(env, findShard(env, move.toShard)!);
  for (const table of [...TENANT_TABLES].reverse()) {
    try {
      while ((await deleteChunk(target, table, move.tenantId)) > 0);
    } catch (err) {
      console.warn("move: could not remove the partial copy on the target", { moveId: move.id, table: table.name, error: String(err) });
    }
  }
}

/** The minute cron: re-sends steps of moves that stopped advancing (a lost or failed message). */
export async function resumeStalledMoves(env: Env, now = Date.now()): Promise<number> {
  const db = createDb(env.DB);
  const active = await db.select().from(tenantMoves).where(eq(tenantMoves.status, "copying")).all();
  const more = await db.select().from(tenantMoves).where(eq(tenantMoves.status, "verifying")).all();
  const cleaning = await db.select().from(tenantMoves).where(eq(tenantMoves.status, "cleanup")).all();
  const stalled = [...active, ...more, ...cleaning].filter((m) => now - m.updatedAt > 60_000);
  for (const m of stalled) await send(env, m);
  return stalled.length;
}
