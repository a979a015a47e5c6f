/** The D1 registry of IP blocks: written when a block starts, read by the platform API. */
import { and, asc, eq, gt, lte } from "drizzle-orm";
import { rateLimitBlocks } from "../db/schema";
import type { Db } from "../env";

export type BlockRow = typeof rateLimitBlocks.$inferSelect;

export async function recordBlock(db: Db, row: BlockRow): Promise<void> {
  await db
    .insert(rateLimitBlocks)
    .values(row)
    .onConflictDoUpdate({
      target: rateLimitBlocks.ip,
      set: { blockedAt: row.blockedAt, blockedUntil: row.blockedUntil, rejections: row.rejections },
    })
    .run();
}

/** Active blocks ordered by IP, keyset-paged. */
export function listActiveBlocks(db: Db, now: number, limit: number, afterIp?: string): Promise<BlockRow[]> {
  const active = gt(rateLimitBlocks.blockedUntil, now);
  return db
    .select()
    .from(rateLimitBlocks)
    .where(afterIp === undefined ? active : and(active, gt(rateLimitBlocks.ip, afterIp)))
    .orderBy(asc(rateLimitBlocks.ip))
    .limit(limit)
    .all();
}

export async function findActiveBlock(db: Db, ip: string, now: number): Promise<BlockRow | undefined> {
  return db.select().from(rateLimitBlocks).where(and(eq(rateLimitBlocks.ip, ip), gt(rateLimitBlocks.blockedUntil, now))).get();
}

export async function deleteBlock(db: Db, ip: string): Promise<void> {
  await db.delete(rateLimitBlocks).where(eq(rateLimitBlocks.ip, ip)).run();
}

/** Scheduled sweep: drops rows of blocks that have run out. */
export async function purgeExpiredBlocks(db: Db, now = Date.now()): Promise<void> {
  await db.delete(rateLimitBlocks).where(lte(rateLimitBlocks.blockedUntil, now)).run();
}
