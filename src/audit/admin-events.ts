/**
 * Admin changes as feed events, for the audit trail: written in the same batch as the change
 * (so a change cannot commit without its record), feed-only (`processed`: no side effects), with
 * the actor from the handle (audit/actor.ts). Data names what changed, never a secret.
 */
import type { CoreContext } from "../core/context";
import type { EventPayloads, EventType } from "../events/catalogue";
import { insertEvent } from "../events/outbox";

/**
 * Before a blind write (nothing read yet), settle the token check so the event's actor names the
 * token: the same round trip the write would spend on it anyway (core/request-db.ts).
 */
export async function settleActor(ctx: Pick<CoreContext, "actorReady">): Promise<void> {
  await ctx.actorReady?.();
}

export function adminEvent<T extends EventType>(ctx: Pick<CoreContext, "db" | "tenantId">, type: T, subjectId: string, data: EventPayloads[T], now: number) {
  return insertEvent(ctx.db, { tenantId: ctx.tenantId, type, subjectId, data, createdAt: now, status: "processed" });
}
