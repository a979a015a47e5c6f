/**
 * Last activity (`lastActivityAt`). The platform reports activity as often as it likes; the row is
 * written at most once per user per ACTIVITY_RESOLUTION_MS, so a busy user costs one small UPDATE
 * a minute. The conditional UPDATE and the read-back travel in one batch: one round trip.
 *
 * A write that lands bumps `version`: `lastActivityAt` is part of the representation (REST, XML,
 * SCIM's service extension), so its ETag must change with it, or a client revalidating with
 * If-None-Match keeps a stale copy and an If-Match on the old version would pass over a value it
 * never saw. A coalesced repeat changes nothing and keeps the version. It writes no event (it is
 * not a change a provisioning client made; the feed stays one event per change) and leaves
 * `updatedAt` alone, so `updatedSince` delta syncs and SCIM `meta.lastModified` still mean "last
 * provisioning change". A concurrent update loses its optimistic race at most once a minute and
 * re-applies itself (users/update.ts), or gets 412 when it pinned the old version, as it should.
 */
import { and, eq, sql } from "drizzle-orm";
import { users } from "../db/schema";
import type { CoreContext } from "../core/context";
import { liveRow } from "./reads";
import type { UserRow } from "./model";

export const ACTIVITY_RESOLUTION_MS = 60 * 1000;

export interface ActivityResult {
  lastActivityAt: string;
  /** The user's version after this call (its ETag is W/"<version>"). */
  version: number;
  /** false when coalesced into the write of the last minute. */
  recorded: boolean;
}

export async function recordActivity(ctx: CoreContext, userId: string): Promise<ActivityResult> {
  const now = ctx.clock.now();
  const mine = and(eq(users.tenantId, ctx.tenantId), eq(users.id, userId));
  const [update, rows] = await ctx.db.batch([
    ctx.db
      .update(users)
      .set({ lastActivityAt: now, version: sql`${users.version} + 1` })
      .where(and(mine, sql`${users.erasedAt} IS NULL`, sql`coalesce(${users.lastActivityAt}, 0) <= ${now - ACTIVITY_RESOLUTION_MS}`)),
    ctx.db.select().from(users).where(mine),
  ]);
  const row = liveRow((rows as UserRow[])[0], userId);
  return { lastActivityAt: new Date(row.lastActivityAt ?? now).toISOString(), version: row.version, recorded: (update as D1Result).meta.changes === 1 };
}
