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
  const send = dispatchAfterResponse(c.env, db, c);
  const shard = c.get("shard")?.config.name;
  const dispatch = (refs: OutboxRef[]) => send(shard ? refs.map((r) => ({ ...r, shard })) : refs);
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
