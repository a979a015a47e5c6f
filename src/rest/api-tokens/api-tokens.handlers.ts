/**
 * Handlers for /v1/api-tokens, one per route contract in ./api-tokens.routes.ts and typed by it
 * (RouteHandler<typeof route, AppEnv>): they translate shapes; the rules live in the core
 * (auth/api-token-service.ts), shared with the admin console.
 */
import type { RouteHandler } from "@hono/zod-openapi";
import { createApiToken, disableApiToken, getApiToken, listApiTokenPage } from "../../auth/api-token-service";
import { decodeCursor, encodeCursor } from "../../http/cursor";
import { pagination } from "../../http/paging";
import { coreContextOf } from "../../core/from-request";
import type { AppEnv } from "../../env";
import type * as routes from "./api-tokens.routes";

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const created = await createApiToken(coreContextOf(c), { ...body, expiresAt: body.expiresAt ? Date.parse(body.expiresAt) : null });
  c.header("Location", `/v1/api-tokens/${created.apiToken.id}`);
  c.header("Cache-Control", "no-store");
  return c.json(created, 201);
};

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const q = c.req.valid("query");
  const limit = q.limit ?? 100;
  const after = q.cursor ? String(decodeCursor(q.cursor, "api-tokens", 1)[0]) : undefined;
  const { rows, hasMore } = await listApiTokenPage(coreContextOf(c), { limit, after });
  const last = rows[rows.length - 1];
  return c.json({ data: rows, pagination: pagination(c, { limit, hasMore, nextCursor: hasMore && last ? encodeCursor({ o: "api-tokens", k: [last.id] }) : null }) }, 200);
};

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => c.json(await getApiToken(coreContextOf(c), c.req.valid("param").id), 200);

export const disable: RouteHandler<typeof routes.disable, AppEnv> = async (c) => c.json(await disableApiToken(coreContextOf(c), c.req.valid("param").id), 200);
