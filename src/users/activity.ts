/**
 * Last activity (`lastActivityAt`). The platform reports activity as often as it likes; the row is
 * written at most once per user per ACTIVITY_RESOLUTION_MS, with no event and no version bump (it
 * is not a change a provisioning client made), so a busy user costs one small UPDATE a minute.
 * The conditional UPDATE and the read-back travel in one batch: one round trip.
 */
import { and, eq, sql } from "drizzle-orm";
import { users } from "../db/schema";
import type { CoreContext } from "../core/context";
import { liveRow } from "./reads";
import type { UserRow } from "./model";

export const ACTIVITY_RESOLUTION_MS = 60 * 1000;

export interface ActivityResult {
  lastActivityAt: string;
  /** false when coalesced into the write of the last minute. */
  recorded: boolean;
}

export async function recordActivity(ctx: CoreContext, userId: string): Promise<ActivityResult> {
  const now = ctx.clock.now();
  const mine = and(eq(users.tenantId, ctx.tenantId), eq(users.id, userId));
  const [update, rows] = await ctx.db.batch([
    ctx.db
      .update(users)
      .set({ lastActivityAt: now })
      .where(and(mine, sql`${users.erasedAt} IS NULL`, sql`coalesce(${users.lastActivityAt}, 0) <= ${now - ACTIVITY_RESOLUTION_MS}`)),
    ctx.db.select().from(users).where(mine),
  ]);
  const row = liveRow((rows as UserRow[])[0], userId);
  return { lastActivityAt: new Date(row.lastActivityAt ?? now).toISOString(), recorded: (update as D1Result).meta.changes === 1 };
}
