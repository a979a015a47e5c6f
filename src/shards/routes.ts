/** `/platform/shards` and `/platform/tenants/{slug}/move`: the operator's view of shards and moves. */
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, inArray } from "drizzle-orm";
import { tenantMoves, tenants } from "../db/schema";
import { ApiError } from "../http/errors";
import { requirePlatformAdmin } from "../platform/admin";
import { uuidv7 } from "../lib/ids";
import { createRouter, jsonBodyOf, jsonContent, problemResponse, bodyErrorResponses } from "../rest/openapi";
import { findShard, shardList, shardOf } from "./config";
import { initialProgress } from "./move";
import { shardStats } from "./placement";
import { MoveSchema, moveView } from "./tenant-view";
import { pageOf, WHOLE_LIST, wholeList } from "../http/paging";
import { IdempotencyKeyHeader, idempotencyResponses, idempotent } from "../rest/idempotency";

const tags = ["Platform"];
const security = [{ platformAdmin: [] }];
const errors = {
  400: problemResponse("The request is not valid."),
  401: problemResponse("Missing or wrong platform admin token."),
  404: problemResponse("No such tenant."),
} as const;

const ShardSchema = z
  .object({
    name: z.string(),
    region: z.string().openapi({ description: "The data region: where the shard's data rests (README, Operations)." }),
    jurisdiction: z.string().nullable(),
    default: z.boolean().openapi({ description: "Tenants created without dataRegion or shard go here." }),
    tenants: z.number().int(),
    users: z.number().int(),
    sizeBytes: z.number().int(),
  })
  .openapi("Shard");

export const shardsRouter = createRouter();
// The platform admin token guards every route here (constant-time compare, src/platform/admin.ts).
shardsRouter.use("/platform/shards", requirePlatformAdmin);
shardsRouter.use("/platform/tenants/:slug/move", requirePlatformAdmin);

shardsRouter.openapi(
  createRoute({
    method: "get",
    path: "/platform/shards",
    tags,
    security,
    summary: "List shards with their region, tenants, users and size",
    description: WHOLE_LIST + "the shards are the deployment's configured databases.",
    responses: { 200: jsonContent(pageOf(ShardSchema), "Every configured shard."), ...errors },
  }),
  async (c) => {
    const data = await shardStats(c.get("db"), c.env);
    return c.json({ data, pagination: wholeList(data.length) }, 200);
  },
);

shardsRouter.openapi(
  createRoute({
    method: "post",
    path: "/platform/tenants/{slug}/move",
    tags,
    security,
    summary: "Move a tenant to another shard, online",
    description:
      "Answers 202 at once; GET /platform/tenants/{slug} shows `move` with its progress. Reads keep working throughout; writes get 503 with " +
      "Retry-After only while the final verification and the cut-over run. A failed move leaves the tenant whole on its source shard.",
    request: { headers: IdempotencyKeyHeader, params: z.object({ slug: z.string().max(63) }), body: jsonBodyOf(z.strictObject({ shard: z.string().max(63) }).openapi("TenantMoveRequest")) },
    middleware: [idempotent()],
    responses: {
      ...idempotencyResponses,
      202: jsonContent(MoveSchema, "The move started."),
      ...errors,
      409: problemResponse("The tenant is already on that shard, or a move is in progress."),
      ...bodyErrorResponses,
    },
  }),
  async (c) => {
    const db = c.get("db");
    const { slug } = c.req.valid("param");
    const { shard: name } = c.req.valid("json");
    const tenant = await db.select().from(tenants).where(eq(tenants.slug, slug)).get();
    if (!tenant) throw new ApiError("not_found", `No tenant with slug '${slug}'.`);
    const to = findShard(c.env, name);
    if (!to) {
      const names = shardList(c.env).map((s) => s.name).join(", ");
      throw new ApiError("validation_failed", `No shard is named '${name}'. Shards: ${names}.`, { errors: [{ path: "shard", message: `must be one of: ${names}` }] });
    }
    const from = shardOf(c.env, tenant);
    if (from.name === to.name) throw new ApiError("conflict", `Tenant '${slug}' is already on shard '${to.name}'.`, { errors: [{ path: "shard", message: "is the current shard" }] });
    const running = await db.select({ id: tenantMoves.id }).from(tenantMoves).where(and(eq(tenantMoves.tenantId, tenant.id), inArray(tenantMoves.status, ["copying", "verifying", "cleanup"]))).get();
    if (running) throw new ApiError("conflict", `Tenant '${slug}' is already moving (move ${running.id}); wait for it to finish.`);
    const now = Date.now();
    const move = { id: uuidv7(now), tenantId: tenant.id, fromShard: from.name, toShard: to.name, status: "copying" as const, progress: JSON.stringify(initialProgress()), error: null, startedAt: now, updatedAt: now, fencedAt: null, cutoverAt: null, finishedAt: null };
    await db.insert(tenantMoves).values(move).run();
    await c.env.EVENTS_QUEUE.send({ t: "move", tenantId: tenant.id, moveId: move.id });
    c.header("Location", `/platform/tenants/${slug}`);
    return c.json(moveView(move), 202);
  },
);
