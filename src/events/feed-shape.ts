/**
 * An event as the outside sees it: in the feed (GET /v1/events), the audit log and webhook bodies.
 * One function, so a webhook receiver and a feed reader get the same document.
 */
import type { events } from "../db/schema";
import { parseActor, type Actor } from "../audit/actor";

type EventRow = Pick<typeof events.$inferSelect, "id" | "type" | "subjectId" | "createdAt" | "data" | "actor">;

export interface FeedEvent {
  id: string;
  type: string;
  subjectId: string | null;
  occurredAt: string;
  data: Record<string, unknown>;
  /** Null only for events written before the audit trail existed. */
  actor: Actor | null;
}

export function toFeedEvent(row: EventRow): FeedEvent {
  let data: Record<string, unknown> = {};
  try {
    data = JSON.parse(row.data) as Record<string, unknown>;
  } catch {
    // An unreadable payload is shown empty rather than failing the whole page.
  }
  return { id: row.id, type: row.type, subjectId: row.subjectId, occurredAt: new Date(row.createdAt).toISOString(), data, actor: row.actor ? parseActor(row.actor) : null };
}
