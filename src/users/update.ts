/**
 * The one update path: REST PATCH and PUT, SCIM PATCH and PUT, Bulk, deactivation and invitation
 * acceptance all come here. It owns the two concurrency rules:
 *
 * - `If-Match` (`ifMatch`) pins the version: a mismatch, or another writer winning the race, is
 *   412 — only ever when the client sent a precondition.
 * - Without one, concurrent writers never fail because of each other. Writes are optimistic
 *   (`WHERE version = ?`), and the write batch also reads the row back, so a lost race re-applies
 *   the change to the winner's row at the cost of one more round trip, with no extra read.
 *
 * A change may be a merge-patch or a function of the current user (SCIM PATCH operations and
 * full replaces), so that a retry recomputes it from the row it will be written over.
 */
import { and, eq } from "drizzle-orm";
import { users } from "../db/schema";
import type { CoreContext } from "../core/context";
import { ApiError, type FieldError } from "../http/errors";
import { matches, type ETagCondition } from "../http/etag";
import { uuidv7 } from "../lib/ids";
import { insertEvent, insertEventIfPreviousChangedOneRow, type EventType } from "../events/outbox";
import type { MembershipRequest } from "../memberships/kinds";
import { markPending } from "../memberships/provisioning";
import { hashPassword } from "./password";
import { etagOf, toUser, type User, type UserFields, type UserRow } from "./model";
import { liveRow, readForWrite, type WriteReads } from "./reads";
import { applyPatch, requestedMemberships, throwIfInvalid, valuesOf } from "./validate";
import { checkNewManager, committed, rowAfterWrite, writeUserBatch } from "./write";

/** A merge-patch, or how to compute one from the user as it is now (re-run after a lost race). */
export type UserChange = UserFields | ((current: User) => UserFields);

export interface UpdateOptions {
  /** The client's If-Match, parsed; absent means "whatever the current version is". */
  ifMatch?: ETagCondition;
  /** Memberships to apply asynchronously (per listed kind, the complete set of manual memberships). */
  memberships?: MembershipRequest;
  /** The read batch, when the adapter ran it (it must include `userId`). */
  reads?: WriteReads;
  /** What the adapter's request schema found wrong; see CreateOptions.schemaErrors (users/write.ts). */
  schemaErrors?: FieldError[];
}

/**
 * A safety valve, not a policy: each lost round means another writer committed, so N concurrent
 * writers finish within N rounds. Reaching this bound means a runaway writer, not contention.
 */
const MAX_ROUNDS = 64;

function checkPrecondition(ifMatch: ETagCondition | undefined, row: UserRow): void {
  if (ifMatch && !matches(ifMatch, row.version)) {
    throw new ApiError("precondition_failed", `If-Match does not match the user's current ETag ${etagOf(row.version)}. Fetch the user again and retry.`, {
      extra: { currentVersion: row.version },
    });
  }
}

/** Whether If-Match names versions (a `*` only asks that the user exists). */
function pinned(ifMatch: ETagCondition | undefined): boolean {
  return ifMatch !== undefined && !ifMatch.any;
}

export async function updateUser(ctx: CoreContext, id: string, change: UserChange, options: UpdateOptions = {}): Promise<User> {
  const staticManager = typeof change === "function" ? undefined : change.managerId;
  const reads = options.reads ?? (await readForWrite(ctx, { userId: id, managerIds: [staticManager] }));
  const { roles } = reads.lookups;
  let row = liveRow(reads.row, id);
  const requested = requestedMemberships(options.memberships);
  // A lost race re-applies the change; the same password is not hashed twice.
  const hashes = new Map<string, string>();
  for (let round = 1; ; round++) {
    checkPrecondition(options.ifMatch, row);
    const patch = typeof change === "function" ? change(toUser(row, roles, ctx.clock.now())) : change;
    const now = ctx.clock.now();
    const applied = applyPatch(row, patch, reads.lookups, now);
    await checkNewManager(ctx, reads, applied.newManagerId, applied.errors);
    throwIfInvalid(applied.errors, options.schemaErrors);

    const { next, changes } = applied;
    if (typeof applied.password === "string") {
      const hash = hashes.get(applied.password) ?? (await hashPassword(applied.password));
      hashes.set(applied.password, hash);
      next.passwordHash = hash;
    }
    if (Object.keys(changes).length === 0) {
      if (!requested) return toUser(row, roles, now);
      // Nothing about the user changed, but memberships were asked for: record the request.
      const eventId = uuidv7(now);
      await ctx.db.batch([
        insertEvent(ctx.db, { id: eventId, tenantId: ctx.tenantId, type: "user.memberships_requested", subjectId: id, data: { memberships: requested, version: row.version }, createdAt: now }),
        markPending(ctx.db, { tenantId: ctx.tenantId, userId: id, eventId, now }),
      ]);
      committed(ctx, eventId);
      return toUser(row, roles, now);
    }

    const type: EventType = changes.active === false ? "user.deactivated" : changes.active === true ? "user.reactivated" : "user.updated";
    const eventId = uuidv7(next.updatedAt);
    const data = requested ? { changes, version: next.version, memberships: requested } : { changes, version: next.version };
    // lastActivityAt and the failure counters are written by their own paths (activity.ts,
    // password-verify.ts), so a user update never writes them back stale; when those paths change
    // what the user shows they bump the version, and an update racing them re-applies (or 412s).
    const { tenantId: _t, id: _i, createdAt: _c, erasedAt: _e, status: _s, invitationExpiresAt: _x, lastActivityAt: _a, ...rest } = next;
    const set = "passwordChanged" in changes ? rest : (({ passwordFailures: _f, passwordFailuresSince: _fs, lockedUntil: _l, ...r }) => r)(rest);
    const results = await writeUserBatch(ctx, valuesOf(next), [
      ctx.db.update(users).set(set).where(and(eq(users.tenantId, ctx.tenantId), eq(users.id, id), eq(users.version, row.version))),
      insertEventIfPreviousChangedOneRow(ctx.db, { id: eventId, tenantId: ctx.tenantId, type, subjectId: id, data, createdAt: next.updatedAt }),
      // Every user event has side effects the consumer applies (memberships, audience rules), so the
      // provisioning status follows this event: the write answers it, the consumer finishes it.
      markPending(ctx.db, { tenantId: ctx.tenantId, userId: id, eventId, now: next.updatedAt, ifPreviousChanged: true }),
      rowAfterWrite(ctx, id),
    ]);
    if ((results[0] as D1Result).meta.changes === 1) {
      committed(ctx, eventId);
      return toUser(next, roles, now);
    }
    // Another writer committed first. With a pinned version that is the client's 412.
    if (pinned(options.ifMatch)) {
      throw new ApiError("precondition_failed", "The user changed while this request was being applied. Fetch it again and retry.");
    }
    if (round >= MAX_ROUNDS) throw new ApiError("conflict", "The user is being changed by other requests right now; retry shortly.");
    row = liveRow((results[results.length - 1] as UserRow[])[0], id);
  }
}

export function deactivateUser(ctx: CoreContext, id: string, options: UpdateOptions = {}): Promise<User> {
  return updateUser(ctx, id, { active: false }, options);
}
