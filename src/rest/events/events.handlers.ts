/**
 * Handlers for /v1/events, one per route contract in ./events.routes.ts and typed by it
 * (RouteHandler<typeof route, AppEnv>): they translate shapes; the rules live in the core.
 */
import type { RouteHandler } from "@hono/zod-openapi";
import { and, asc, eq, gt, inArray, type SQL } from "drizzle-orm";
import { demandOneScope } from "../../auth/middleware";
import { events } from "../../db/schema";
import type { AppEnv, Db } from "../../env";
import { EVENT_TYPES, type EventType } from "../../events/catalogue";
import { dispatchEvents } from "../../events/dispatch";
import { toFeedEvent } from "../../events/feed-shape";
import { defaultShard } from "../../shards/config";
import { checkHorizon, decodeFeedCursor, encodeFeedCursor, horizonQuery } from "../../shards/feed";
import { ApiError } from "../../http/errors";
import { pagination } from "../../http/paging";
import type * as routes from "./events.routes";
import { coreContextOf } from "../../core/from-request";
import { resetEventForReplay } from "../../events/replay";

type EventRow = typeof events.$inferSelect;

/** The feed shape (with `actor`) is shared with the audit log and webhook bodies. */
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

async function findEvent(c: { get(k: "db"): Db; get(k: "tenant"): { id: string } }, id: string): Promise<EventRow> {
  const row = await c.get("db").select().from(events).where(and(eq(events.tenantId, c.get("tenant").id), eq(events.id, id))).get();
  if (!row) throw new ApiError("not_found", `No event with id '${id}' exists in this tenant.`);
  return row;
}

export const feed: RouteHandler<typeof routes.feed, AppEnv> = async (c) => {
  const q = c.req.valid("query");
  const limit = q.limit ?? 100;
  const types = parseTypes(q.types);
  // Cursors name their shard and stop at the pruned horizon (src/shards/feed.ts): 410 cursor_expired.
  const shardName = c.get("shard")?.config.name ?? defaultShard(c.env).name;
  const afterSeq = q.after ? decodeFeedCursor(q.after, shardName, defaultShard(c.env).name) : 0;
  if (!Number.isInteger(afterSeq) || afterSeq < 0) {
    throw new ApiError("invalid_cursor", "after: not a cursor this endpoint issued; start again without it.", { errors: [{ path: "after", message: "must be a nextCursor value" }] });
  }
  const conditions: SQL[] = [eq(events.tenantId, c.get("tenant").id), gt(events.seq, afterSeq)];
  if (types) conditions.push(inArray(events.type, types));
  if (q.status) {
    demandOneScope(c, "admin", "Filtering the feed by delivery status needs a token with the 'admin' scope.");
    conditions.push(eq(events.status, q.status));
  }
  const db = c.get("db");
  const [rows, horizon] = await db.batch([db.select().from(events).where(and(...conditions)).orderBy(asc(events.seq)).limit(limit + 1), horizonQuery(db, c.get("tenant").id)]);
  checkHorizon(afterSeq, horizon);
  const page = rows.slice(0, limit);
  const lastSeq = page.length > 0 ? page[page.length - 1]!.seq : afterSeq;
  return c.json({ data: page.map(toEvent), pagination: pagination(c, { limit, hasMore: rows.length > limit, nextCursor: encodeFeedCursor(lastSeq, shardName), cursorParam: "after" }) }, 200);
};

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => {
  const row = await findEvent(c, c.req.valid("param").id);
  return c.json(
    { ...toEvent(row), delivery: { status: row.status, attempts: row.attempts, sentAt: iso(row.sentAt), processedAt: iso(row.processedAt), error: row.error } },
    200,
  );
};

export const replay: RouteHandler<typeof routes.replay, AppEnv> = async (c) => {
  // The rule (only unprocessed events, provisioning back to pending) lives in events/replay.ts,
  // shared with the admin console.
  const ref = await resetEventForReplay(coreContextOf(c), c.req.valid("param").id);
  await dispatchEvents(c.env, c.get("db"), [ref]);
  return c.json({ id: ref.id, status: "queued" }, 202);
};
