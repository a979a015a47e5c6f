/**
 * Route contracts for /v1/events: paths, methods, request and response schemas, summaries.
 * They make the OpenAPI document; the handlers that answer them are in ./events.handlers.ts.
 */
import { FeedPagination, pageOf } from "../../http/paging";
import { intQuery } from "../../http/query";
import { ActorSchema } from "../../audit/schemas";
import { createRoute, z } from "@hono/zod-openapi";
import { EVENT_TYPES } from "../../events/catalogue";
import { errorResponses, jsonContent, problemResponse } from "../openapi";

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
  limit: intQuery(1, 1000).optional().openapi({ description: "Page size, 1-1000 (default 100)." }),
  status: z
    .enum(["pending", "sent", "processed", "failed"], { error: "must be one of: pending, sent, processed, failed" })
    .optional()
    .openapi({ description: "Admin scope only: events in this delivery status, e.g. `failed` to find what needs a replay." }),
});

const IdParam = z.object({ id: z.string().max(64).openapi({ param: { name: "id", in: "path" } }) });

export const feed = createRoute({
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
      pageOf(EventSchema, FeedPagination).openapi("EventFeed"),
      "A page of events. `Link: <...>; rel=\"next\"` is sent when `hasMore` is true.",
    ),
    ...errorResponses,
    410: problemResponse("cursor_expired: the cursor is older than the tenant's retention window, or from before the tenant moved to another shard. Resynchronise with GET /v1/users?updatedSince=..., then read the feed without `after`."),
  },
});

export const get = createRoute({
  method: "get",
  path: "/v1/events/{id}",
  tags,
  security,
  summary: "Get an event and its delivery status",
  request: { params: IdParam },
  responses: { 200: jsonContent(EventSchema.extend({ delivery: DeliverySchema }), "The event."), ...errorResponses },
});

export const replay = createRoute({
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
});
