/**
 * The write fence of a move's cut-over. A fence row in the tenant's (source) shard makes every
 * write batch for that tenant fail on its last statement, so the batch rolls back whole: no
 * write is half-applied, and a refused write is answered 503 + Retry-After (the client retries and
 * lands on the new shard once the directory switched). Reads are never fenced.
 */
import { ApiError } from "../http/errors";
import type { RequestGates } from "../core/request-db";

/**
 * abs(INT64_MIN) raises "integer overflow": an error no other statement of this service raises,
 * so the gate can tell a fenced write from any other failure of the batch.
 */
export const FENCE_GUARD_SQL =
  "SELECT CASE WHEN EXISTS (SELECT 1 FROM tenant_fences WHERE tenant_id = ?) THEN abs(-9223372036854775807 - 1) ELSE 1 END";

/** Seconds a refused writer is told to wait: the cut-over plus the host -> shard cache lifetime. */
export function retryAfterSeconds(cacheSeconds: number): number {
  return Math.max(1, Math.min(10, cacheSeconds + 1));
}

export function isFenceViolation(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    if (e instanceof Error && /integer overflow/i.test(e.message)) return true;
    e = e instanceof Error ? (e as { cause?: unknown }).cause : undefined;
  }
  return false;
}

export function movingRefusal(cacheSeconds: number): ApiError {
  const seconds = retryAfterSeconds(cacheSeconds);
  return new ApiError("unavailable", `This tenant is moving to another database; writes resume within seconds. Retry after ${seconds} s.`, {
    headers: { "Retry-After": String(seconds) },
    extra: { reason: "tenant_moving" },
  });
}

/** Puts the fence guard on a request's (or the consumer's) gate for one tenant. */
export function fenceWrites(gates: RequestGates, d1: { prepare(sql: string): D1PreparedStatement }, tenantId: string, cacheSeconds: number): void {
  gates.writeGuard = {
    statement: d1.prepare(FENCE_GUARD_SQL).bind(tenantId),
    refusal: (err) => (isFenceViolation(err) ? movingRefusal(cacheSeconds) : null),
  };
}

export const SET_FENCE_SQL = "INSERT OR IGNORE INTO tenant_fences (tenant_id, reason, created_at) VALUES (?, ?, ?)";
export const CLEAR_FENCE_SQL = "DELETE FROM tenant_fences WHERE tenant_id = ?";
