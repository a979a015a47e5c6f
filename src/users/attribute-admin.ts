/**
 * Attribute administration: listing, defining and changing the tenant's attributes. These rules
 * (built-in keys are reserved, enum values only grow, always-required built-ins stay required)
 * are shared by the REST adapter (/v1/available-attributes) and the admin console.
 */
import { adminEvent, settleActor } from "../audit/admin-events";
import { and, eq } from "drizzle-orm";
import type { CoreContext } from "../core/context";
import { attributeDefinitions } from "../db/schema";
import { ApiError, type FieldError } from "../http/errors";
import { ATTRIBUTE_TYPES, BUILT_IN_ATTRIBUTES, collidesWithBuiltIn, CUSTOM_KEY_RE, throwIfErrors, loadAttributeSet, storageKeyOf, type AttributeDefinition, type AttributeType } from "./attributes";

export interface AttributeView {
  key: string;
  label: string;
  type: AttributeType;
  required: boolean;
  builtIn: boolean;
  enumValues: string[] | null;
  description: string | null;
}

export function attributeView(d: AttributeDefinition): AttributeView {
  return { key: d.key, label: d.label, type: d.type, required: d.required, builtIn: d.builtIn, enumValues: d.enumValues, description: d.description };
}

/**
 * Built-ins first, then custom attributes by key, then built-ins that share a key with a custom
 * one: the first entry of a key is the one a change without `builtIn` addresses.
 */
export async function listAttributes(ctx: CoreContext): Promise<AttributeView[]> {
  const set = await loadAttributeSet(ctx.db, ctx.tenantId);
  const shadowed = (d: AttributeDefinition) => d.builtIn && set.customAttribute(d.key) !== undefined;
  return [...set.definitions.filter((d) => !shadowed(d)), ...set.definitions.filter(shadowed)].map(attributeView);
}

export interface AttributeDefinitionInput {
  key: string;
  label?: string;
  type: AttributeType;
  required?: boolean;
  enumValues?: string[];
  description?: string | null;
}

/** The shape rules REST also states in its zod schema, for adapters that take free-form input (the console). */
function checkDefinitionShape(body: AttributeDefinitionInput): void {
  const errors: FieldError[] = [];
  if (!CUSTOM_KEY_RE.test(body.key)) errors.push({ path: "key", message: "must start with a letter and contain only letters, digits and _ (at most 64 characters)" });
  if (!(ATTRIBUTE_TYPES as readonly string[]).includes(body.type)) errors.push({ path: "type", message: `must be one of: ${ATTRIBUTE_TYPES.join(", ")}` });
  if (body.label !== undefined && (body.label.trim() === "" || body.label.length > 100)) errors.push({ path: "label", message: "must be 1-100 characters" });
  throwIfErrors(errors);
}

export async function defineAttribute(ctx: CoreContext, body: AttributeDefinitionInput): Promise<AttributeView> {
  checkDefinitionShape(body);
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
  const existing = (await loadAttributeSet(ctx.db, ctx.tenantId)).custom.find((d) => d.key.toLowerCase() === body.key.toLowerCase());
  if (existing) {
    throw new ApiError("conflict", `A custom attribute '${existing.key}' already exists; change it with PATCH.`, { errors: [{ path: "key", message: "is taken" }] });
  }
  const now = ctx.clock.now();
  const enumValues = body.enumValues ? [...new Set(body.enumValues)] : null;
  const row = {
    tenantId: ctx.tenantId,
    key: body.key,
    label: body.label ?? body.key,
    type: body.type,
    enumValues: enumValues ? JSON.stringify(enumValues) : null,
    description: body.description ?? null,
    required: body.required ?? false,
    builtIn: false,
    createdAt: now,
    updatedAt: now,
  };
  await settleActor(ctx);
  await ctx.db.batch([ctx.db.insert(attributeDefinitions).values(row), adminEvent(ctx, "attribute_definition.created", row.key, { key: row.key, type: row.type, required: row.required }, now)]);
  return attributeView({ ...row, alwaysRequired: false, enumValues });
}

export interface AttributeChange {
  label?: string;
  required?: boolean;
  enumValues?: string[];
  description?: string | null;
}

/** `which`: true for the built-in of this key, false for the custom one, undefined for the custom one if any. */
export async function changeAttribute(ctx: CoreContext, key: string, which: boolean | undefined, body: AttributeChange): Promise<AttributeView> {
  const { db, tenantId } = ctx;
  const set = await loadAttributeSet(db, tenantId);
  const def = which === true ? set.builtIn(key) : which === false ? set.customAttribute(key) : (set.customAttribute(key) ?? set.builtIn(key));
  if (!def) throw new ApiError("not_found", `No ${which === true ? "built-in " : which === false ? "custom " : ""}attribute '${key}' exists for this tenant (keys are case-sensitive).`);
  const now = ctx.clock.now();
  if (def.builtIn) {
    if (body.enumValues || body.description !== undefined) {
      throw new ApiError("validation_failed", "Only label and required can change on a built-in attribute.", { errors: [{ path: body.enumValues ? "enumValues" : "description", message: "cannot change on a built-in attribute" }] });
    }
    if (def.alwaysRequired && body.required === false) {
      throw new ApiError("conflict", `'${key}' is always required.`, { errors: [{ path: "required", message: "cannot be false for this attribute" }] });
    }
    const builtIn = BUILT_IN_ATTRIBUTES.find((b) => b.key === key)!;
    const next = { label: body.label ?? def.label, required: def.alwaysRequired || (body.required ?? def.required) };
    await db.batch([
      db
        .insert(attributeDefinitions)
        .values({ tenantId, key: storageKeyOf(builtIn), type: builtIn.type, builtIn: true, createdAt: now, updatedAt: now, ...next })
        .onConflictDoUpdate({ target: [attributeDefinitions.tenantId, attributeDefinitions.key], set: { ...next, updatedAt: now } }),
      adminEvent(ctx, "attribute_definition.updated", key, { key, changes: next }, now),
    ]);
    return attributeView({ ...def, ...next });
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
    adminEvent(ctx, "attribute_definition.updated", key, { key, changes: next }, now),
  ]);
  return attributeView({ ...def, ...next });
}
