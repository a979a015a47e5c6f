/**
 * `/platform/blocks`: the IPs currently blocked for fair-use violations, and lifting a block.
 * The listing reads the D1 registry; lifting goes to the IP's limiter object, which enforces.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { ApiError } from "../http/errors";
import { deleteBlock, findActiveBlock, listActiveBlocks } from "../limits/blocks";
import { forgetCachedKey, ipKey } from "../limits/limiter";
import { clientIp, UNKNOWN_IP } from "../limits/middleware";
import { createRouter, jsonContent, problemResponse } from "../rest/openapi";
import { requirePlatformAdmin } from "./admin";

const BlockSchema = z
  .object({
    ip: z.string().openapi({ description: `The client IP, or "${UNKNOWN_IP}" for requests without CF-Connecting-IP.` }),
    blockedAt: z.string(),
    blockedUntil: z.string(),
    retryAfterSeconds: z.number().int(),
    rejections: z.number().int().openapi({ description: "Rejected requests in the detection window when the block started." }),
  })
  .openapi("IpBlock");

const errors = {
  400: problemResponse("The request is not valid."),
  401: problemResponse("Missing or wrong platform admin token."),
  403: problemResponse("The platform API is disabled (no PLATFORM_ADMIN_TOKEN configured)."),
  429: problemResponse("Rate limit exceeded."),
} as const;

const tags = ["Platform"];
const security = [{ platformAdmin: [] }];
const iso = (ms: number) => new Date(ms).toISOString();

export const blocksRouter = createRouter();
blocksRouter.use("/platform/blocks", requirePlatformAdmin);
blocksRouter.use("/platform/blocks/*", requirePlatformAdmin);

blocksRouter.openapi(
  createRoute({
    method: "get",
    path: "/platform/blocks",
    tags,
    security,
    summary: "List blocked client IPs",
    description: "IPs that kept sending requests after being rate limited and are refused until `blockedUntil`.",
    request: { query: z.object({ limit: z.coerce.number().int().min(1).max(1000).optional(), cursor: z.string().max(512).optional() }) },
    responses: {
      200: jsonContent(z.object({ data: z.array(BlockSchema), pagination: z.object({ limit: z.number(), nextCursor: z.string().nullable() }) }), "Active blocks by IP."),
      ...errors,
    },
  }),
  async (c) => {
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
    return c.json({ data, pagination: { limit, nextCursor } }, 200);
  },
);

blocksRouter.openapi(
  createRoute({
    method: "delete",
    path: "/platform/blocks/{ip}",
    tags,
    security,
    summary: "Lift a block",
    description: "The IP is served again at once by this isolate and within a second everywhere.",
    request: { params: z.object({ ip: z.string().max(64) }) },
    responses: { 204: { description: "Lifted." }, 404: problemResponse("The IP is not blocked."), ...errors },
  }),
  async (c) => {
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
  },
);
