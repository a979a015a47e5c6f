/**
 * Handlers for /v1/available-attributes, one per route contract in ./attributes.routes.ts and typed by it
 * (RouteHandler<typeof route, AppEnv>): they translate shapes; the rules live in the core.
 */
import { adminEvent } from "../../audit/admin-events";
import type { RouteHandler } from "@hono/zod-openapi";
import { and, eq, sql } from "drizzle-orm";
import { attributeDefinitions, users } from "../../db/schema";
import type { AppEnv } from "../../env";
import { insertEventsForUsers } from "../../events/outbox";
import { ApiError } from "../../http/errors";
import { BUILT_IN_KEYS, getStoredDefinition } from "../../users/attributes";
import type * as routes from "./attributes.routes";
import { coreContextOf } from "../../core/from-request";
import { changeAttribute, defineAttribute, listAttributes } from "../../users/attribute-admin";
import { wholeList } from "../../http/paging";

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const data = await listAttributes(coreContextOf(c));
  return c.json({ data, pagination: wholeList(data.length) }, 200);
};

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => {
  const created = await defineAttribute(coreContextOf(c), c.req.valid("json"));
  c.header("Location", `/v1/available-attributes/${created.key}`);
  return c.json(created, 201);
};

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) =>
  c.json(await changeAttribute(coreContextOf(c), c.req.valid("param").key, c.req.valid("query").builtIn, c.req.valid("json")), 200);

export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  const { key } = c.req.valid("param");
  const db = c.get("db");
  const tenantId = c.get("tenant").id;
  const stored = await getStoredDefinition(db, tenantId, key);
  if (!stored || stored.builtIn) {
    if (BUILT_IN_KEYS.has(key)) {
      throw new ApiError("conflict", `'${key}' is a built-in attribute and cannot be removed; PATCH it with {"required": false} instead.`);
    }
    throw new ApiError("not_found", `No custom attribute '${key}' exists for this tenant (keys are case-sensitive).`);
  }
  const path = `$.${key}`;
  const now = Date.now();
  await db.batch([
    db.delete(attributeDefinitions).where(and(eq(attributeDefinitions.tenantId, tenantId), eq(attributeDefinitions.key, key))),
    adminEvent({ db, tenantId }, "attribute_definition.deleted", key, { key }, now),
    // One user.updated event per user that held a value, written before the values go.
    insertEventsForUsers(db, { tenantId, type: "user.updated", data: { changes: { [`attributes.${key}`]: null } }, createdAt: now }, sql`json_type(${users.attributes}, ${path}) IS NOT NULL`),
    db
      .update(users)
      .set({ attributes: sql`json_remove(${users.attributes}, ${path})`, version: sql`${users.version} + 1`, updatedAt: now })
      .where(and(eq(users.tenantId, tenantId), sql`json_type(${users.attributes}, ${path}) IS NOT NULL`)),
  ]);
  return c.body(null, 204);
};
