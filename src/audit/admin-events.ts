/**
 * Admin changes as feed events, for the audit trail: written in the same batch as the change
 * (so a change cannot commit without its record), feed-only (`processed`: no side effects), with
 * the actor from the handle (audit/actor.ts). Data names what changed, never a secret.
 */
import type { Db } from "../core/context";
import { insertEvent, type AdminEventType } from "../events/outbox";

export function adminEvent(db: Db, tenantId: string, type: AdminEventType, subjectId: string, data: Record<string, unknown>, now = Date.now()) {
  return insertEvent(db, { tenantId, type, subjectId, data, createdAt: now, status: "processed" });
}
