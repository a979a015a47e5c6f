/**
 * `GET /v1/audit-log` (admin): every event with who did it, filterable by actor, subject, type and
 * time, cursor-paged by seq like the feed (and kept as long as the feed keeps its events).
 * Filters narrow a keyset scan of the tenant's events by (tenant_id, seq); the actor filters read
 * the JSON column, so a selective actor filter over a long history scans more rows than it returns
 * (bounded by the page size times the scan, see README "Audit").
 */
import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, eq, gt, gte, inArray, lt, sql, type SQL } from "drizzle-orm";
import { ACTOR_KINDS } from "../../audit/actor";
import { ActorSchema } from "../../audit/schemas";
import { requireScope } from "../../auth/middleware";
import { events } from "../../db/schema";
import { toFeedEvent } from "../../events/feed-shape";
import { EVENT_TYPES } from "../../events/catalogue";
import { decodeCursor, encodeCursor } from "../../http/cursor";
import { ApiError } from "../../http/errors";
import { FeedPagination, pageOf, pagination } from "../../http/paging";
import { createRouter, errorResponses, jsonContent } from "../openapi";

const Query = z.object({
  after: z.string().max(512).optional().openapi({ description: "The `nextCursor` of the previous page." }),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  actorKind: z.enum(ACTOR_KINDS, { error: `must be one of: ${ACTOR_KINDS.join(", ")}` }).optional(),
  tokenId: z.string().max(64).optional().openapi({ description: "Changes made with this API token (REST or SCIM)." }),
  subjectId: z.string().max(64).optional(),
  types: z.string().max(1000).optional().openapi({ description: "Comma-separated event types." }),
  since: z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time" }).optional(),
  until: z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time" }).optional(),
});

const Entry = z
  .object({ id: z.string(), type: z.string(), subjectId: z.string().nullable(), occurredAt: z.string(), data: z.record(z.string(), z.unknown()), actor: ActorSchema.nullable() })
  .openapi("AuditEntry");

export const auditLogRouter = createRouter();
auditLogRouter.use("/v1/audit-log", requireScope("admin"));

auditLogRouter.openapi(
  createRoute({
    method: "get",
    path: "/v1/audit-log",
    tags: ["Audit"],
    security: [{ bearerAuth: [] }],
    summary: "Who changed what",
    description: "Every event of the tenant with its actor (kind, token, request id, truncated client IP), oldest first.",
    request: { query: Query },
    responses: {
      200: jsonContent(pageOf(Entry, FeedPagination), "A page. `nextCursor` is set on the last page too, to poll from; `Link: rel=\"next\"` only when `hasMore`."),
      ...errorResponses,
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const limit = q.limit ?? 100;
    const afterSeq = q.after ? Number(decodeCursor(q.after, "audit", 1)[0]) : 0;
    const conditions: SQL[] = [eq(events.tenantId, c.get("tenant").id), gt(events.seq, afterSeq)];
    if (q.actorKind) conditions.push(sql`json_extract(${events.actor}, '$.kind') = ${q.actorKind}`);
    if (q.tokenId) conditions.push(sql`json_extract(${events.actor}, '$.tokenId') = ${q.tokenId}`);
    if (q.subjectId) conditions.push(eq(events.subjectId, q.subjectId));
    if (q.since) conditions.push(gte(events.createdAt, Date.parse(q.since)));
    if (q.until) conditions.push(lt(events.createdAt, Date.parse(q.until)));
    if (q.types) {
      const types = [...new Set(q.types.split(",").map((t) => t.trim()).filter(Boolean))];
      const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
      if (unknown.length > 0) {
        throw new ApiError("invalid_query", `types: unknown event type(s) ${unknown.join(", ")}`, { errors: [{ path: "types", message: `use any of: ${EVENT_TYPES.join(", ")}` }] });
      }
      conditions.push(inArray(events.type, types));
    }
    const rows = await c.get("db").select().from(events).where(and(...conditions)).orderBy(asc(events.seq)).limit(limit + 1).all();
    const page = rows.slice(0, limit);
    const lastSeq = page.length > 0 ? page[page.length - 1]!.seq : afterSeq;
    return c.json({ data: page.map(toFeedEvent), pagination: pagination(c, { limit, hasMore: rows.length > limit, nextCursor: encodeCursor({ o: "audit", k: [lastSeq] }), cursorParam: "after" }) }, 200);
  },
);
