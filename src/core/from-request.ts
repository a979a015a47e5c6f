/**
 * The one way an adapter (REST, SCIM, console) turns a Hono request into the core's context:
 * the request's database, its tenant, the injected clock, and dispatch of committed events to
 * the queue after the response.
 */
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { dispatchAfterResponse, type OutboxRef } from "../events/dispatch";
import { actorOf } from "../audit/actor";
import { verifyPendingAuth } from "./request-db";
import { systemClock, type CoreContext } from "./context";

export function coreContextOf(c: Context<AppEnv>, committed?: OutboxRef[]): CoreContext {
  const db = c.get("db");
  const dispatch = dispatchAfterResponse(c.env, db, c);
  return {
    db,
    tenantId: c.get("tenant").id,
    clock: c.get("clock") ?? systemClock,
    // A getter: the token (and so the actor) is known only once the first read verified it.
    get actor() {
      return actorOf(db);
    },
    actorReady: () => verifyPendingAuth(c.get("gates")),
    onCommit: (refs) => {
      committed?.push(...refs);
      dispatch(refs);
    },
  };
}
