/**
 * Feed cursors on shards. A cursor is a position (seq) in ONE shard's events table; a move gives
 * the tenant's events new seqs on the target, and retention deletes old events. So a cursor names
 * its shard, and a cursor from another shard, or below the tenant's pruned horizon, is answered
 * 410 cursor_expired with the way to resynchronise instead of silently skipping events.
 */
import { eq } from "drizzle-orm";
import { feedHorizons } from "../db/schema";
import type { Db } from "../env";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { ApiError } from "../http/errors";

export function encodeFeedCursor(seq: number, shard: string): string {
  return encodeCursor({ o: "feed", k: [seq, shard] });
}

function expired(detail: string): ApiError {
  return new ApiError("cursor_expired", `${detail} Resynchronise: list users with GET /v1/users?updatedSince=<time of your last complete sync>, then read the feed again without 'after' and keep its new cursor.`, {
    extra: { resync: "/v1/users?updatedSince=" },
  });
}

/** The seq after which to read; legacy one-element cursors belong to the default shard. */
export function decodeFeedCursor(cursor: string, shard: string, defaultShard: string): number {
  let k: (string | number)[];
  try {
    k = decodeCursor(cursor, "feed", 2);
  } catch {
    k = [...decodeCursor(cursor, "feed", 1), defaultShard];
  }
  if (k[1] !== shard) throw expired("This cursor was issued before the tenant's data moved to another database.");
  return Number(k[0]);
}

/** The pruned horizon, to read in the same batch as the page (one round trip). */
export function horizonQuery(db: Db, tenantId: string) {
  return db.select({ seq: feedHorizons.prunedThroughSeq }).from(feedHorizons).where(eq(feedHorizons.tenantId, tenantId));
}

export function checkHorizon(afterSeq: number, rows: { seq: number }[]): void {
  const horizon = rows[0]?.seq ?? 0;
  if (afterSeq > 0 && afterSeq < horizon) throw expired("Events after this cursor are older than the tenant's retention window and were deleted.");
}
