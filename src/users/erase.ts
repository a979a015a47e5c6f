/**
 * Erasure: a user's personal data goes for good. The row stays as a tombstone (id, timestamps)
 * so that references and audit trails resolve; payloads of its past events are scrubbed too.
 * One read batch (the row) and one write batch.
 */
import { and, eq, sql } from "drizzle-orm";
import { events, users } from "../db/schema";
import type { CoreContext } from "../core/context";
import { ApiError } from "../http/errors";
import type { ETagCondition } from "../http/etag";
import { matches } from "../http/etag";
import { uuidv7 } from "../lib/ids";
import { insertEvent, insertEventsForUsers } from "../events/outbox";
import { etagOf, SETTABLE_FIELDS } from "./model";
import { getUserRow } from "./reads";
import { deleteDevicesOf } from "./devices";
import { committed } from "./write";

export async function eraseUser(ctx: CoreContext, id: string, options: { ifMatch?: ETagCondition } = {}): Promise<{ id: string; erasedAt: string }> {
  const row = await getUserRow(ctx, id);
  if (options.ifMatch && !matches(options.ifMatch, row.version)) {
    throw new ApiError("precondition_failed", `If-Match does not match the user's current ETag ${etagOf(row.version)}. Fetch the user again and retry.`, {
      extra: { currentVersion: row.version },
    });
  }
  const now = ctx.clock.now();
  const eventId = uuidv7(now);
  const cleared = Object.fromEntries(SETTABLE_FIELDS.map((f) => [f, null]));
  await ctx.db.batch([
    // Reports of the erased user keep existing; they just lose the manager reference (each with
    // its user.updated event, written first, while the condition still selects them).
    insertEventsForUsers(ctx.db, { tenantId: ctx.tenantId, type: "user.updated", data: { changes: { managerId: null } }, createdAt: now }, eq(users.managerId, id)),
    ctx.db
      .update(users)
      .set({ managerId: null, version: sql`${users.version} + 1`, updatedAt: now })
      .where(and(eq(users.tenantId, ctx.tenantId), eq(users.managerId, id))),
    // Unconditional on the version: erasure is a right, and a concurrent edit must not undo it.
    ctx.db
      .update(users)
      .set({ ...cleared, emailLower: null, userNameLower: null, active: false, attributes: "{}", passwordHash: null, lastActivityAt: null, lockedUntil: null, version: sql`${users.version} + 1`, updatedAt: now, erasedAt: now })
      .where(and(eq(users.tenantId, ctx.tenantId), eq(users.id, id))),
    deleteDevicesOf(ctx, id),
    ctx.db
      .update(events)
      .set({ data: "{}" })
      .where(and(eq(events.tenantId, ctx.tenantId), eq(events.subjectId, id))),
    insertEvent(ctx.db, { id: eventId, tenantId: ctx.tenantId, type: "user.erased", subjectId: id, data: {}, createdAt: now }),
  ]);
  committed(ctx, eventId);
  return { id, erasedAt: new Date(now).toISOString() };
}
