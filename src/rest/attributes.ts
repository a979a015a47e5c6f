/**
 * `/v1/available-attributes`: the built-in and custom attributes a user can carry. Admins define
 * custom attributes and mark any attribute required; those rules then apply to every way a user
 * is created (REST, SCIM, invitations) through the users core.
 */
import { adminEvent } from "../audit/admin-events";
import { verifyPendingAuth } from "../core/request-db";
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, sql } from "drizzle-orm";
import { adminWritesReadersRead } from "../auth/middleware";
import { attributeDefinitions, users } from "../db/schema";
import { insertEventsForUsers } from "../events/outbox";
import { ApiError } from "../http/errors";
import {
  ATTRIBUTE_TYPES,
  BUILT_IN_ATTRIBUTES,
  BUILT_IN_KEYS,
  collidesWithBuiltIn,
  CUSTOM_KEY_RE,
  getStoredDefinition,
  loadAttributeSet,
  storageKeyOf,
  type AttributeDefinition,
} from "../users/attributes";
import { YIELDING_BUILT_INS } from "../users/fields";
import { bodyErrorResponses, createRouter, errorResponses, jsonBodyOf, jsonContent, problemResponse } from "./openapi";

export const AttributeSchema = z
  .object({
    key: z.string(),
    label: z.string(),
    type: z.enum(ATTRIBUTE_TYPES),
    required: z.boolean(),
    builtIn: z.boolean(),
    enumValues: z.array(z.string()).nullable(),
    description: z.string().nullable(),
  })
  .openapi("Attribute");

const label = z.string().trim().min(1, "must not be empty").max(100);
const enumValues = z.array(z.string().min(1).max(255)).min(1, "must list at least one value").max(500);

const AttributeCreateSchema = z
  .strictObject({
    key: z
      .string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") })
      .regex(CUSTOM_KEY_RE, "must start with a letter and contain only letters, digits and _ (at most 64 characters)")
      .openapi({ example: "costCenter" }),
    label: label.optional(),
    type: z.enum(ATTRIBUTE_TYPES, { error: `must be one of: ${ATTRIBUTE_TYPES.join(", ")}` }),
    required: z.boolean().optional(),
    enumValues: enumValues.optional().openapi({ description: "Allowed values; required for type enum." }),
    description: z.string().max(500).nullable().optional(),
  })
  .openapi("AttributeCreate");

const AttributePatchSchema = z
  .strictObject({
    label: label.optional(),
    required: z.boolean().optional(),
    enumValues: enumValues.optional().openapi({ description: "Enum attributes only; may add values, never remove them." }),
    description: z.string().max(500).nullable().optional(),
  })
  .openapi("AttributePatch");

const KeyParam = z.object({ key: z.string().max(64) });

/**
 * A custom attribute may share its key with a built-in that came later (costCenter, ...); the key
 * then names the custom attribute, as it did before, and `?builtIn=true` names the built-in.
 */
const WhichQuery = z.object({
  builtIn: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional()
    .openapi({ description: "true: the built-in attribute of this name; false: the custom one. Default: the custom one if the tenant has it, else the built-in." }),
});

function view(d: AttributeDefinition) {
  return { key: d.key, label: d.label, type: d.type, required: d.required, builtIn: d.builtIn, enumValues: d.enumValues, description: d.description };
}

const tags = ["Attributes"];
const security = [{ bearerAuth: [] }];

export const attributesRouter = createRouter();
// Hono's "/x/*" also matches "/x", so this one guard covers the collection and its items.
attributesRouter.use("/v1/available-attributes/*", adminWritesReadersRead);

attributesRouter.openapi(
  createRoute({
    method: "get",
    path: "/v1/available-attributes",
    tags,
    security,
    summary: "List built-in and custom attributes",
    description:
      "Every built-in attribute (each can be made required) and the tenant's custom attributes. A custom attribute may share its key with a " +
      `built-in added after it (${YIELDING_BUILT_INS.join(", ")}): that built-in is then listed last, so the ` +
      "first entry of a key is the one PATCH /v1/available-attributes/{key} changes; `?builtIn=true` addresses the built-in.",
    responses: { 200: jsonContent(z.object({ data: z.array(AttributeSchema) }), "Built-ins first, then custom attributes by key, then built-ins that share a key with a custom one."), ...errorResponses },
  }),
  async (c) => {
    const set = await loadAttributeSet(c.get("db"), c.get("tenant").id);
    const shadowed = (d: AttributeDefinition) => d.builtIn && set.customAttribute(d.key) !== undefined;
    const data = [...set.definitions.filter((d) => !shadowed(d)), ...set.definitions.filter(shadowed)];
    return c.json({ data: data.map(view) }, 200);
  },
);

attributesRouter.openapi(
  createRoute({
    method: "post",
    path: "/v1/available-attributes",
    tags,
    security,
    summary: "Define a custom attribute",
    description: "To make a built-in attribute required, PATCH /v1/available-attributes/{key} instead.",
    request: { body: jsonBodyOf(AttributeCreateSchema) },
    responses: {
      201: jsonContent(AttributeSchema, "Created."),
      ...errorResponses,
      409: problemResponse("The key is taken (or is a built-in attribute)."),
      ...bodyErrorResponses,
    },
  }),
  async (c) => {
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
    // A blind write: settle the token first, so its event names the token (same round trip the write would spend on it).
    await verifyPendingAuth(c.get("gates"));
    await db.batch([db.insert(attributeDefinitions).values(row), adminEvent(db, tenantId, "attribute_definition.created", row.key, { key: row.key, type: row.type, required: row.required }, now)]);
    c.header("Location", `/v1/available-attributes/${row.key}`);
    return c.json(view({ ...row, alwaysRequired: false, enumValues: body.enumValues ? [...new Set(body.enumValues)] : null }), 201);
  },
);

attributesRouter.openapi(
  createRoute({
    method: "patch",
    path: "/v1/available-attributes/{key}",
    tags,
    security,
    summary: "Change an attribute (label, required, enum values)",
    description:
      `Works for every built-in (label, required; ${BUILT_IN_ATTRIBUTES.filter((b) => b.alwaysRequired).map((b) => b.key).join(", ")} are always required) and custom attributes. ` +
      "The type of an attribute cannot change. Making an attribute required applies to users created or changed afterwards.",
    request: { params: KeyParam, query: WhichQuery, body: jsonBodyOf(AttributePatchSchema) },
    responses: { 200: jsonContent(AttributeSchema, "The updated attribute."), ...errorResponses, 409: problemResponse("The change is not allowed."), ...bodyErrorResponses },
  }),
  async (c) => {
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
      const upsert = db
        .insert(attributeDefinitions)
        .values({ tenantId, key: storageKeyOf(builtIn), type: builtIn.type, builtIn: true, createdAt: now, updatedAt: now, ...next })
        .onConflictDoUpdate({ target: [attributeDefinitions.tenantId, attributeDefinitions.key], set: { ...next, updatedAt: now } });
      await db.batch([upsert, adminEvent(db, tenantId, "attribute_definition.updated", key, { key, changes: next }, now)]);
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
    await db.batch([
      db
        .update(attributeDefinitions)
        .set({ ...next, enumValues: next.enumValues ? JSON.stringify(next.enumValues) : null, updatedAt: now })
        .where(and(eq(attributeDefinitions.tenantId, tenantId), eq(attributeDefinitions.key, key))),
      adminEvent(db, tenantId, "attribute_definition.updated", key, { key, changes: next }, now),
    ]);
    return c.json(view({ ...def, ...next }), 200);
  },
);

attributesRouter.openapi(
  createRoute({
    method: "delete",
    path: "/v1/available-attributes/{key}",
    tags,
    security,
    summary: "Remove a custom attribute and its values",
    description: "Removes the definition and, in the same transaction, the attribute's value from every user of the tenant.",
    request: { params: KeyParam },
    responses: { 204: { description: "Removed." }, ...errorResponses, 409: problemResponse("Built-in attributes cannot be removed.") },
  }),
  async (c) => {
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
      adminEvent(db, tenantId, "attribute_definition.deleted", key, { key }, now),
      // One user.updated event per user that held a value, written before the values go.
      insertEventsForUsers(db, { tenantId, type: "user.updated", data: { changes: { [`attributes.${key}`]: null } }, createdAt: now }, sql`json_type(${users.attributes}, ${path}) IS NOT NULL`),
      db
        .update(users)
        .set({ attributes: sql`json_remove(${users.attributes}, ${path})`, version: sql`${users.version} + 1`, updatedAt: now })
        .where(and(eq(users.tenantId, tenantId), sql`json_type(${users.attributes}, ${path}) IS NOT NULL`)),
    ]);
    return c.body(null, 204);
  },
);
