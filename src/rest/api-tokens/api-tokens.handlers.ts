/**
 * Handlers for /v1/api-tokens, one per route contract in ./api-tokens.routes.ts and typed by it
 * (RouteHandler<typeof route, AppEnv>): they translate shapes; the rules live in the core.
 */
import type { RouteHandler } from "@hono/zod-openapi";
import { and, asc, eq } from "drizzle-orm";
import { apiTokens } from "../../db/schema";
import type { AppEnv, Db } from "../../env";
import { ApiError } from "../../http/errors";
import type * as routes from "./api-tokens.routes";
import { newTokenRow, toApiToken } from "./token-rows";

async function findToken(db: Db, tenantId: string, id: string) {
  const row = await db.select().from(apiTokens).where(and(eq(apiTokens.tenantId, tenantId), eq(apiTokens.id, id))).get();
  if (!row) throw new ApiError("not_found", `No API token with id '${id}' exists in this tenant.`);
  return row;
}

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const expiresAt = body.expiresAt ? Date.parse(body.expiresAt) : null;
  if (expiresAt !== null && expiresAt <= Date.now()) {
    throw new ApiError("validation_failed", "expiresAt: must be in the future", { errors: [{ path: "expiresAt", message: "must be in the future" }] });
  }
  const { secret, row, view } = await newTokenRow(c.get("tenant").id, body.name, body.scopes, expiresAt);
  await c.get("db").insert(apiTokens).values(row).run();
  c.header("Location", `/v1/api-tokens/${row.id}`);
  c.header("Cache-Control", "no-store");
  return c.json({ token: secret, apiToken: view }, 201);
};

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const rows = await c
    .get("db")
    .select()
    .from(apiTokens)
    .where(eq(apiTokens.tenantId, c.get("tenant").id))
    .orderBy(asc(apiTokens.id))
    .limit(1000)
    .all();
  return c.json({ data: rows.map(toApiToken) }, 200);
};

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => c.json(toApiToken(await findToken(c.get("db"), c.get("tenant").id, c.req.valid("param").id)), 200);

export const disable: RouteHandler<typeof routes.disable, AppEnv> = async (c) => {
  const db = c.get("db");
  const tenantId = c.get("tenant").id;
  const row = await findToken(db, tenantId, c.req.valid("param").id);
  if (row.disabledAt === null) {
    row.disabledAt = Date.now();
    await db.update(apiTokens).set({ disabledAt: row.disabledAt }).where(and(eq(apiTokens.tenantId, tenantId), eq(apiTokens.id, row.id))).run();
  }
  return c.json(toApiToken(row), 200);
};
