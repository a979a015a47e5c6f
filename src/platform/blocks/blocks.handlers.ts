/**
 * Handlers for /platform/blocks, one per route contract in ./blocks.routes.ts and typed by it
 * (RouteHandler<typeof route, AppEnv>): they translate shapes; the rules live in the core.
 */
import { pagination } from "../../http/paging";
import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../env";
import { decodeCursor, encodeCursor } from "../../http/cursor";
import { ApiError } from "../../http/errors";
import { deleteBlock, findActiveBlock, listActiveBlocks } from "../../limits/blocks";
import { forgetCachedKey, ipKey } from "../../limits/limiter";
import { clientIp, UNKNOWN_IP } from "../../limits/middleware";
import type * as routes from "./blocks.routes";

const iso = (ms: number) => new Date(ms).toISOString();

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const { limit = 100, cursor } = c.req.valid("query");
  const after = cursor ? String(decodeCursor(cursor, "ip", 1)[0]) : undefined;
  const now = Date.now();
  const rows = await listActiveBlocks(c.get("db"), now, limit + 1, after);
  const page = rows.slice(0, limit);
  const nextCursor = rows.length > limit ? encodeCursor({ o: "ip", k: [page[page.length - 1]!.ip] }) : null;
  const data = page.map((r) => ({
    ip: r.ip,
    blockedAt: iso(r.blockedAt),
    blockedUntil: iso(r.blockedUntil),
    retryAfterSeconds: Math.max(1, Math.ceil((r.blockedUntil - now) / 1000)),
    rejections: r.rejections,
  }));
  return c.json({ data, pagination: pagination(c, { limit, hasMore: nextCursor !== null, nextCursor }) }, 200);
};

export const lift: RouteHandler<typeof routes.lift, AppEnv> = async (c) => {
  const raw = c.req.valid("param").ip;
  const ip = raw.toLowerCase() === UNKNOWN_IP ? UNKNOWN_IP : clientIp(raw);
  if (ip === UNKNOWN_IP && raw.toLowerCase() !== UNKNOWN_IP) {
    throw new ApiError("invalid_query", `ip: '${raw}' is not an IPv4 or IPv6 address.`, {
      errors: [{ path: "ip", message: `must be an IPv4 or IPv6 address, or "${UNKNOWN_IP}"` }],
    });
  }
  const db = c.get("db");
  const listed = await findActiveBlock(db, ip, Date.now());
  const wasBlocked = await c.env.RATE_LIMITER.getByName(ipKey(ip)).unblock();
  await deleteBlock(db, ip);
  forgetCachedKey(ipKey(ip));
  if (!wasBlocked && !listed) throw new ApiError("not_found", `The IP '${ip}' is not blocked.`);
  return c.body(null, 204);
};
