/**
 * `/v1/events`: the tenant's change feed (delta sync) and, for admins, delivery status and replay
 * of events whose side effects failed.
 *
 * The feed is ordered by `seq`, which D1 assigns inside the write's transaction; D1 runs writes one
 * at a time, so once a client has seen seq N every event below N is already committed: paging with
 * the cursor never skips an event that commits later, and never repeats one.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, eq, gt, inArray, ne, type SQL } from "drizzle-orm";
import { demandOneScope, requireScope } from "../auth/middleware";
import { events, userProvisioning } from "../db/schema";
import { dispatchEvents } from "../events/dispatch";
import { EVENT_TYPES, type EventType } from "../events/outbox";
import { toFeedEvent } from "../events/feed-shape";
import { ActorSchema } from "../audit/schemas";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { ApiError } from "../http/errors";
import { createRouter, errorResponses, jsonContent, problemResponse } from "./openapi";

const tags = ["Events"];
const security = [{ bearerAuth: [] }];

const EventSchema = z
  .object({
    id: z.string(),
    type: z.string().openapi({ example: "user.updated" }),
    subjectId: z.string().nullable().openapi({ description: "The user (or collection) the event is about." }),
    occurredAt: z.string().openapi({ format: "date-time" }),
    data: z.record(z.string(), z.unknown()).openapi({
      description: "user.created: {user}; user.updated/deactivated/reactivated: {changes, version}; membership.*: {userId, collection, source|reason}. Erased users' events are emptied.",
    }),
    actor: ActorSchema.nullable().openapi({ description: "Who made the change; null only for events older than the audit trail." }),
  })
  .openapi("Event");

const DeliverySchema = z.object({
  status: z.enum(["pending", "sent", "processed", "failed"]),
  attempts: z.number().int(),
  sentAt: z.string().nullable(),
  processedAt: z.string().nullable(),
  error: z.string().nullable(),
});

const FeedQuery = z.object({
  after: z.string().max(512).optional().openapi({ description: "The `nextCursor` of the previous page; omit to start at the beginning." }),
  types: z
    .string()
    .max(1000)
    .optional()
    .openapi({ description: `Comma-separated event types: ${EVENT_TYPES.join(", ")}.`, example: "user.created,user.updated" }),
  limit: z.coerce.number().int().min(1).max(1000).optional().openapi({ description: "Page size, 1-1000 (default 100)." }),
  status: z
    .enum(["pending", "sent", "processed", "failed"], { error: "must be one of: pending, sent, processed, failed" })
    .optional()
    .openapi({ description: "Admin scope only: events in this delivery status, e.g. `failed` to find what needs a replay." }),
});

const IdParam = z.object({ id: z.string().max(64).openapi({ param: { name: "id", in: "path" } }) });

type EventRow = typeof events.$inferSelect;

const toEvent = toFeedEvent;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function parseTypes(raw: string | undefined): EventType[] | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const types = [...new Set(raw.split(",").map((t) => t.trim()).filter(Boolean))];
  const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0) {
    const message = `unknown event type(s) ${unknown.map((t) => `'${t}'`).join(", ")}; use any of: ${EVENT_TYPES.join(", ")}`;
    throw new ApiError("invalid_query", `types: ${message}`, { errors: [{ path: "types", message }] });
  }
  return types as EventType[];
}

export const eventsRouter = createRouter();

eventsRouter.use("/v1/events", requireScope("users:read"));
eventsRouter.use("/v1/events/*", async (c, next) => requireScope(c.req.method === "GET" ? "users:read" : "admin")(c, next));

eventsRouter.openapi(
  createRoute({
    method: "get",
    path: "/v1/events",
    tags,
    security,
    summary: "Change feed",
    description:
      "The tenant's events in commit order. Keep `nextCursor` and pass it as `after` to receive only what happened since: " +
      "no gaps, no repeats. `nextCursor` is returned even when the page is empty, so it can be polled.",
    request: { query: FeedQuery },
    responses: {
      200: jsonContent(
        z.object({ data: z.array(EventSchema), pagination: z.object({ limit: z.number().int(), nextCursor: z.string(), hasMore: z.boolean() }) }).openapi("EventFeed"),
        "A page of events.",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const limit = q.limit ?? 100;
    const types = parseTypes(q.types);
    const afterSeq = q.after ? Number(decodeCursor(q.after, "feed", 1)[0]) : 0;
    if (!Number.isInteger(afterSeq) || afterSeq < 0) {
      throw new ApiError("invalid_cursor", "after: not a cursor this endpoint issued; start again without it.", { errors: [{ path: "after", message: "must be a nextCursor value" }] });
    }
    const conditions: SQL[] = [eq(events.tenantId, c.get("tenant").id), gt(events.seq, afterSeq)];
    if (types) conditions.push(inArray(events.type, types));
    if (q.status) {
      demandOneScope(c, "admin", "Filtering the feed by delivery status needs a token with the 'admin' scope.");
      conditions.push(eq(events.status, q.status));
    }
    const rows = await c.get("db").select().from(events).where(and(...conditions)).orderBy(asc(events.seq)).limit(limit + 1).all();
    const page = rows.slice(0, limit);
    const lastSeq = page.length > 0 ? page[page.length - 1]!.seq : afterSeq;
    return c.json({ data: page.map(toEvent), pagination: { limit, nextCursor: encodeCursor({ o: "feed", k: [lastSeq] }), hasMore: rows.length > limit } }, 200);
  },
);

async function findEvent(c: { get(k: "db"): import("../env").Db; get(k: "tenant"): { id: string } }, id: string): Promise<EventRow> {
  const row = await c.get("db").select().from(events).where(and(eq(events.tenantId, c.get("tenant").id), eq(events.id, id))).get();
  if (!row) throw new ApiError("not_found", `No event with id '${id}' exists in this tenant.`);
  return row;
}

eventsRouter.openapi(
  createRoute({
    method: "get",
    path: "/v1/events/{id}",
    tags,
    security,
    summary: "Get an event and its delivery status",
    request: { params: IdParam },
    responses: { 200: jsonContent(EventSchema.extend({ delivery: DeliverySchema }), "The event."), ...errorResponses },
  }),
  async (c) => {
    const row = await findEvent(c, c.req.valid("param").id);
    return c.json(
      { ...toEvent(row), delivery: { status: row.status, attempts: row.attempts, sentAt: iso(row.sentAt), processedAt: iso(row.processedAt), error: row.error } },
      200,
    );
  },
);

eventsRouter.openapi(
  createRoute({
    method: "post",
    path: "/v1/events/{id}/replay",
    tags,
    security,
    summary: "Replay an event's side effects (admin)",
    description: "Sends a failed (or stuck) event to the queue again. Processing is idempotent, so a replay never applies an effect twice.",
    request: { params: IdParam },
    responses: {
      202: jsonContent(z.object({ id: z.string(), status: z.string() }), "Queued again."),
      ...errorResponses,
      409: problemResponse("The event was already processed."),
    },
  }),
  async (c) => {
    const row = await findEvent(c, c.req.valid("param").id);
    if (row.status === "processed") {
      throw new ApiError("event_already_processed", `Event '${row.id}' was processed at ${iso(row.processedAt)}; there is nothing to replay.`);
    }
    const db = c.get("db");
    await db.batch([
      db.update(events).set({ status: "pending", error: null }).where(and(eq(events.tenantId, row.tenantId), eq(events.id, row.id), ne(events.status, "processed"))),
      db
        .update(userProvisioning)
        .set({ status: "pending", errors: null, completedAt: null })
        .where(and(eq(userProvisioning.tenantId, row.tenantId), eq(userProvisioning.eventId, row.id), eq(userProvisioning.status, "failed"))),
    ]);
    await dispatchEvents(c.env, db, [{ id: row.id, tenantId: row.tenantId }]);
    return c.json({ id: row.id, status: "queued" }, 202);
  },
);
