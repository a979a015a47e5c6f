/**
 * Handlers for /v1/available-attributes, one per route contract in ./attributes.routes.ts and typed by it
 * (RouteHandler<typeof route, AppEnv>): they translate shapes; the rules live in the core.
 */
import type { RouteHandler } from "@hono/zod-openapi";
import { and, eq, sql } from "drizzle-orm";
import { attributeDefinitions, users } from "../../db/schema";
import type { AppEnv } from "../../env";
import { insertEventsForUsers } from "../../events/outbox";
import { ApiError } from "../../http/errors";
import {
  BUILT_IN_ATTRIBUTES,
  BUILT_IN_KEYS,
  collidesWithBuiltIn,
  getStoredDefinition,
  loadAttributeSet,
  storageKeyOf,
  type AttributeDefinition,
} from "../../users/attributes";
import type * as routes from "./attributes.routes";

function view(d: AttributeDefinition) {
  return { key: d.key, label: d.label, type: d.type, required: d.required, builtIn: d.builtIn, enumValues: d.enumValues, description: d.description };
}

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const set = await loadAttributeSet(c.get("db"), c.get("tenant").id);
  const shadowed = (d: AttributeDefinition) => d.builtIn && set.customAttribute(d.key) !== undefined;
  const data = [...set.definitions.filter((d) => !shadowed(d)), ...set.definitions.filter(shadowed)];
  return c.json({ data: data.map(view) }, 200);
};

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const db = c.get("db");
  const tenantId = c.get("tenant").id;
  if (collidesWithBuiltIn(body.key)) {
    throw new ApiError("conflict", `'${body.key}' is (or differs only in case from) a built-in attribute. To make a built-in required, PATCH /v1/available-attributes/${body.key} with {"required": true}.`, {
      errors: [{ path: "key", message: "is a built-in attribute" }],
    });
  }
  if (body.type === "enum" && !body.enumValues) {
    throw new ApiError("validation_failed", "enumValues: is required for type enum", { errors: [{ path: "enumValues", message: "is required for type enum" }] });
  }
  if (body.type !== "enum" && body.enumValues) {
    throw new ApiError("validation_failed", "enumValues: only applies to type enum", { errors: [{ path: "enumValues", message: "only applies to type enum" }] });
  }
  const existing = (await loadAttributeSet(db, tenantId)).custom.find((d) => d.key.toLowerCase() === body.key.toLowerCase());
  if (existing) {
    throw new ApiError("conflict", `A custom attribute '${existing.key}' already exists; change it with PATCH.`, { errors: [{ path: "key", message: "is taken" }] });
  }
  const now = Date.now();
  const row = {
    tenantId,
    key: body.key,
    label: body.label ?? body.key,
    type: body.type,
    enumValues: body.enumValues ? JSON.stringify([...new Set(body.enumValues)]) : null,
    description: body.description ?? null,
    required: body.required ?? false,
    builtIn: false,
    createdAt: now,
    updatedAt: now,
  };
  await db.insert(attributeDefinitions).values(row).run();
  c.header("Location", `/v1/available-attributes/${row.key}`);
  return c.json(view({ ...row, alwaysRequired: false, enumValues: body.enumValues ? [...new Set(body.enumValues)] : null }), 201);
};

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) => {
  const { key } = c.req.valid("param");
  const body = c.req.valid("json");
  const db = c.get("db");
  const tenantId = c.get("tenant").id;
  const { builtIn: which } = c.req.valid("query");
  const set = await loadAttributeSet(db, tenantId);
  const def = which === true ? set.builtIn(key) : which === false ? set.customAttribute(key) : (set.customAttribute(key) ?? set.builtIn(key));
  if (!def) throw new ApiError("not_found", `No ${which === true ? "built-in " : which === false ? "custom " : ""}attribute '${key}' exists for this tenant (keys are case-sensitive).`);
  const now = Date.now();
  if (def.builtIn) {
    if (body.enumValues || body.description !== undefined) {
      throw new ApiError("validation_failed", "Only label and required can change on a built-in attribute.", { errors: [{ path: body.enumValues ? "enumValues" : "description", message: "cannot change on a built-in attribute" }] });
    }
    if (def.alwaysRequired && body.required === false) {
      throw new ApiError("conflict", `'${key}' is always required.`, { errors: [{ path: "required", message: "cannot be false for this attribute" }] });
    }
    const builtIn = BUILT_IN_ATTRIBUTES.find((b) => b.key === key)!;
    const next = { label: body.label ?? def.label, required: def.alwaysRequired || (body.required ?? def.required) };
    await db
      .insert(attributeDefinitions)
      .values({ tenantId, key: storageKeyOf(builtIn), type: builtIn.type, builtIn: true, createdAt: now, updatedAt: now, ...next })
      .onConflictDoUpdate({ target: [attributeDefinitions.tenantId, attributeDefinitions.key], set: { ...next, updatedAt: now } })
      .run();
    return c.json(view({ ...def, ...next }), 200);
  }
  if (body.enumValues) {
    if (def.type !== "enum") {
      throw new ApiError("validation_failed", "enumValues: only applies to type enum", { errors: [{ path: "enumValues", message: "only applies to type enum" }] });
    }
    const removed = (def.enumValues ?? []).filter((v) => !body.enumValues!.includes(v));
    if (removed.length > 0) {
      throw new ApiError("conflict", `enumValues may only grow; these values would be removed: ${removed.join(", ")}.`, { errors: [{ path: "enumValues", message: "must keep every existing value" }] });
    }
  }
  const next = {
    label: body.label ?? def.label,
    required: body.required ?? def.required,
    description: body.description === undefined ? def.description : body.description,
    enumValues: body.enumValues ? [...new Set(body.enumValues)] : def.enumValues,
  };
  await db
    .update(attributeDefinitions)
    .set({ ...next, enumValues: next.enumValues ? JSON.stringify(next.enumValues) : null, updatedAt: now })
    .where(and(eq(attributeDefinitions.tenantId, tenantId), eq(attributeDefinitions.key, key)))
    .run();
  return c.json(view({ ...def, ...next }), 200);
};

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
    // One user.updated event per user that held a value, written before the values go.
    insertEventsForUsers(db, { tenantId, type: "user.updated", data: { changes: { [`attributes.${key}`]: null } }, createdAt: now }, sql`json_type(${users.attributes}, ${path}) IS NOT NULL`),
    db
      .update(users)
      .set({ attributes: sql`json_remove(${users.attributes}, ${path})`, version: sql`${users.version} + 1`, updatedAt: now })
      .where(and(eq(users.tenantId, tenantId), sql`json_type(${users.attributes}, ${path}) IS NOT NULL`)),
  ]);
  return c.body(null, 204);
};
