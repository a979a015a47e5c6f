/**
 * Checking a user's password for the platform's sign-in, with a lockout: 5 failures within 15
 * minutes lock password checks for 15 minutes (423 with `lockedUntil`, which the user also shows).
 * One read, one write batch: the failure count is kept by one atomic UPDATE (so concurrent guesses
 * cannot slip past the limit) and every check is audited by a feed event inserted in the same batch,
 * built from the row the UPDATE left: the outcome, never the password.
 */
import { actorJsonOf } from "../audit/actor";
import { sql } from "drizzle-orm";
import { batchableRun } from "../db/client";
import type { CoreContext } from "../core/context";
import { ApiError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import { getUserRow } from "./reads";
import { verifyPassword } from "./password";

export const MAX_FAILURES = 5;
export const FAILURE_WINDOW_MS = 15 * 60 * 1000;
export const LOCK_MS = 15 * 60 * 1000;

type Outcome = "valid" | "invalid" | "locked" | "no_password" | "inactive";

/** The audit event, with the counters as the statements before it in the batch left them. */
function auditEvent(ctx: CoreContext, userId: string, outcome: Outcome, now: number) {
  return batchableRun(
    ctx.db,
    sql`INSERT INTO events (id, tenant_id, type, subject_id, data, created_at, status, processed_at, actor)
      SELECT ${uuidv7(now)}, tenant_id, 'user.password_verified', id,
             json_object('userId', id, 'outcome', CASE WHEN ${outcome} = 'invalid' AND locked_until > ${now} THEN 'invalid_and_locked' ELSE ${outcome} END,
                         'failures', password_failures,
                         'lockedUntil', CASE WHEN locked_until > ${now} THEN strftime('%Y-%m-%dT%H:%M:%fZ', locked_until / 1000.0, 'unixepoch') END),
             ${now}, 'processed', ${now}, ${actorJsonOf(ctx.db)}
      FROM users WHERE tenant_id = ${ctx.tenantId} AND id = ${userId}`,
  );
}

/**
 * Counts a failure; the one that reaches MAX_FAILURES sets the lock and bumps the version, since
 * `lockedUntil` then appears on the user (its ETag must change). Other failures and clearing the
 * counters change nothing the user shows (a lock is shown only while in force, and a valid check
 * cannot happen during one), so they keep the version.
 */
function recordFailure(ctx: CoreContext, userId: string, now: number) {
  const inWindow = sql`coalesce(password_failures_since, 0) > ${now - FAILURE_WINDOW_MS}`;
  const count = sql`CASE WHEN ${inWindow} THEN password_failures + 1 ELSE 1 END`;
  return batchableRun(
    ctx.db,
    sql`UPDATE users SET password_failures = ${count},
           password_failures_since = CASE WHEN ${inWindow} THEN password_failures_since ELSE ${now} END,
           locked_until = CASE WHEN ${count} >= ${MAX_FAILURES} THEN ${now + LOCK_MS} ELSE locked_until END,
           version = CASE WHEN ${count} >= ${MAX_FAILURES} THEN version + 1 ELSE version END
        WHERE tenant_id = ${ctx.tenantId} AND id = ${userId}`,
  );
}

function clearFailures(ctx: CoreContext, userId: string) {
  return batchableRun(
    ctx.db,
    sql`UPDATE users SET password_failures = 0, password_failures_since = NULL, locked_until = NULL
        WHERE tenant_id = ${ctx.tenantId} AND id = ${userId} AND (password_failures <> 0 OR locked_until IS NOT NULL)`,
  );
}

export interface VerifyResult {
  valid: boolean;
  /** Only when valid: the user must choose a new password now. */
  passwordResetRequired?: boolean;
}

export async function verifyUserPassword(ctx: CoreContext, userId: string, password: string): Promise<VerifyResult> {
  const row = await getUserRow(ctx, userId);
  const now = ctx.clock.now();
  if (row.lockedUntil !== null && row.lockedUntil > now) {
    // Not even hashed: a locked account costs no CPU, and a guess during the lock learns nothing.
    await ctx.db.batch([auditEvent(ctx, userId, "locked", now)]);
    const lockedUntil = new Date(row.lockedUntil).toISOString();
    throw new ApiError("locked", `Too many failed password checks; password checks for this user are refused until ${lockedUntil}.`, {
      extra: { lockedUntil },
      headers: { "Retry-After": String(Math.ceil((row.lockedUntil - now) / 1000)) },
    });
  }
  // A user without a password, or a deactivated one, cannot sign in; neither counts as a guess.
  if (row.passwordHash === null || !row.active) {
    await ctx.db.batch([auditEvent(ctx, userId, row.passwordHash === null ? "no_password" : "inactive", now)]);
    return { valid: false };
  }
  const valid = await verifyPassword(password, row.passwordHash);
  await ctx.db.batch(valid ? [clearFailures(ctx, userId), auditEvent(ctx, userId, "valid", now)] : [recordFailure(ctx, userId, now), auditEvent(ctx, userId, "invalid", now)]);
  return valid ? { valid, passwordResetRequired: row.passwordResetRequired } : { valid };
}
