/**
 * What every core function is handed: the database (already bound to the request's token check
 * and rate-limit decision, see src/core/request-db.ts), the tenant, the clock, and who acts.
 * Kept in a module of its own so that the core, the adapters and the consumer all import it
 * without importing each other.
 */
import type { DrizzleD1Database } from "drizzle-orm/d1";
import type * as schema from "../db/schema";
import type { OutboxRef } from "../events/dispatch";
import type { Actor } from "../audit/actor";

export type Db = DrizzleD1Database<typeof schema> & { $client: D1Database };

/** The time source. Production reads the wall clock; tests inject a fixed or stepping one. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock a test moves by hand, so nothing waits on the wall clock to let time pass. */
export function manualClock(start = Date.UTC(2026, 0, 1)): Clock & { advance(ms: number): void; set(ms: number): void } {
  let current = start;
  return {
    now: () => current,
    advance(ms: number) {
      current += ms;
    },
    set(ms: number) {
      current = ms;
    },
  };
}

export interface CoreContext {
  db: Db;
  tenantId: string;
  clock: Clock;
  /** Told the events a write committed, so the adapter can send them to the queue at once. */
  onCommit?: (events: OutboxRef[]) => void;
  /** Who acts. Events take it from the handle `db` is bound to (audit/actor.ts); this is the same value, for reading. */
  actor?: Actor;
  /** Settles the request's token check (at once when a read already did), so `actor` names the token. */
  actorReady?: () => Promise<void>;
}
