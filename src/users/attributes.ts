/**
 * Attribute definitions: the built-in user attributes (fixed in code) merged with the tenant's
 * settings (custom attributes, labels, required flags). Every way of creating or changing a user
 * goes through `AttributeSet`, so REST, SCIM and bulk invitations obey the same rules.
 */
import { isSingleLine, textProblem } from "../lib/text";
import { and, eq } from "drizzle-orm";
import { attributeDefinitions } from "../db/schema";
import type { Db } from "../env";
import { ApiError, fieldPath, invalidFields, type FieldError } from "../http/errors";
import { FIELD_ENTRIES } from "./fields";

export const ATTRIBUTE_TYPES = ["string", "number", "boolean", "date", "email", "enum"] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

export interface AttributeDefinition {
  key: string;
  label: string;
  type: AttributeType;
  required: boolean;
  builtIn: boolean;
  /** Built-ins that every user must have; their required flag cannot be turned off. */
  alwaysRequired: boolean;
  enumValues: string[] | null;
  description: string | null;
}

type BuiltIn = Pick<AttributeDefinition, "key" | "label" | "type" | "description"> & { alwaysRequired: boolean; customMayShareName: boolean };

/** Every field of the field table (users/fields.ts), in its order; each can be made required. */
export const BUILT_IN_ATTRIBUTES: readonly BuiltIn[] = FIELD_ENTRIES.map(([key, f]) => ({
  key,
  label: f.label,
  type: f.type,
  alwaysRequired: f.alwaysRequired,
  customMayShareName: f.customMayShareName === true,
  description: f.description,
}));

export const BUILT_IN_KEYS = new Set(BUILT_IN_ATTRIBUTES.map((a) => a.key));
/** Names no custom attribute may take: built-ins (except the yielding ones) and the other members of a user. */
const RESERVED_KEYS_LOWER = new Set(
  [...BUILT_IN_ATTRIBUTES.filter((b) => !b.customMayShareName).map((b) => b.key), "role", "active", "id", "attributes", "version"].map((k) => k.toLowerCase()),
);

/**
 * The key under which a tenant's settings for a built-in are stored in attribute_definitions. A
 * built-in that a custom attribute may share its name with gets a key no custom attribute can have
 * (':' is outside CUSTOM_KEY_RE), since (tenant, key) is the table's primary key.
 */
export function storageKeyOf(b: BuiltIn): string {
  return b.customMayShareName ? `builtin:${b.key}` : b.key;
}

/** Custom attribute keys: an identifier that is safe as a JSON path segment. */
export const CUSTOM_KEY_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export function collidesWithBuiltIn(key: string): boolean {
  return RESERVED_KEYS_LOWER.has(key.toLowerCase());
}

export const MAX_STRING_ATTRIBUTE_LENGTH = 2048;
const EMAIL_RE = /^[^\s@"<>()[\]\\,;:]+@[^\s@"<>()[\]\\,;:]+\.[^\s@"<>()[\]\\,;:]+$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isEmail(value: string): boolean {
  return value.length <= 254 && EMAIL_RE.test(value);
}

export function isIsoDate(value: string): boolean {
  const m = DATE_RE.exec(value);
  if (!m) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(value);
}

export class AttributeSet {
  private readonly byKey: Map<string, AttributeDefinition>;
  private readonly builtIns: Map<string, AttributeDefinition>;

  constructor(readonly definitions: AttributeDefinition[]) {
    this.byKey = new Map(definitions.map((d) => [d.key, d]));
    this.builtIns = new Map(definitions.filter((d) => d.builtIn).map((d) => [d.key, d]));
  }

  /** The definition of this key; a custom attribute wins over a built-in of the same name (costCenter). */
  get(key: string): AttributeDefinition | undefined {
    return this.byKey.get(key);
  }

  /** The built-in of this name, even when a custom attribute shares it. */
  builtIn(key: string): AttributeDefinition | undefined {
    return this.builtIns.get(key);
  }

  /** The custom attribute of this key, if any. */
  customAttribute(key: string): AttributeDefinition | undefined {
    const d = this.byKey.get(key);
    return d && !d.builtIn ? d : undefined;
  }

  get custom(): AttributeDefinition[] {
    return this.definitions.filter((d) => !d.builtIn);
  }

  get required(): AttributeDefinition[] {
    return this.definitions.filter((d) => d.required);
  }

  /** Checks a custom attribute value against its definition; returns an error message or null. */
  checkCustomValue(def: AttributeDefinition, value: unknown): string | null {
    switch (def.type) {
      case "string":
        if (typeof value !== "string") return 'must be a string, e.g. "CC-1001"';
        if (value.length > MAX_STRING_ATTRIBUTE_LENGTH) return `must be at most ${MAX_STRING_ATTRIBUTE_LENGTH} characters (got ${value.length})`;
        // Free text: tab and line breaks allowed, the rest of the text rule applies (lib/text.ts).
        return textProblem(value);
      case "number":
        return typeof value === "number" && Number.isFinite(value) ? null : "must be a number (without quotes), e.g. 42";
      case "boolean":
        return typeof value === "boolean" ? null : "must be true or false (without quotes)";
      case "date":
        return typeof value === "string" && isIsoDate(value) ? null : "must be a date as YYYY-MM-DD, e.g. 2026-01-31";
      case "email":
        return typeof value === "string" && isEmail(value) && isSingleLine(value) && textProblem(value) === null ? null : "must be an email address, e.g. jane.doe@example.com";
      case "enum":
        return typeof value === "string" && (def.enumValues ?? []).includes(value)
          ? null
          : `must be one of: ${(def.enumValues ?? []).map((v) => JSON.stringify(v)).join(", ")}`;
    }
  }

  /** Validates the keys and values of a custom-attribute object (null values mean "remove"). */
  checkCustomAttributes(attributes: Record<string, unknown>, errors: FieldError[]): void {
    const available = this.custom.map((d) => d.key);
    for (const [key, value] of Object.entries(attributes)) {
      const def = this.byKey.get(key);
      if (!def || def.builtIn) {
        const hint = BUILT_IN_KEYS.has(key)
          ? `'${key}' is a built-in attribute: send it at the top level, not inside attributes`
          : available.length > 0
            ? `is not an attribute of this tenant; available custom attributes: ${available.join(", ")}`
            : "is not an attribute of this tenant; this tenant has no custom attributes (an admin adds them with POST /v1/available-attributes)";
        errors.push({ path: fieldPath(["attributes", key]), message: hint });
        continue;
      }
      if (value === null) continue;
      const problem = this.checkCustomValue(def, value);
      if (problem) errors.push({ path: fieldPath(["attributes", key]), message: problem });
    }
  }
}

export function attributeDefinitionsQuery(db: Db, tenantId: string) {
  return db.select().from(attributeDefinitions).where(eq(attributeDefinitions.tenantId, tenantId));
}

export async function loadAttributeSet(db: Db, tenantId: string): Promise<AttributeSet> {
  return attributeSetFrom(await attributeDefinitionsQuery(db, tenantId).all());
}

/** Built-ins merged with the tenant's stored settings and custom attributes. */
export function attributeSetFrom(rows: (typeof attributeDefinitions.$inferSelect)[]): AttributeSet {
  const overrides = new Map(rows.filter((r) => r.builtIn).map((r) => [r.key, r]));
  const builtIns: AttributeDefinition[] = BUILT_IN_ATTRIBUTES.map((b) => {
    const o = overrides.get(storageKeyOf(b));
    return {
      key: b.key,
      label: o?.label ?? b.label,
      type: b.type,
      required: b.alwaysRequired === true || o?.required === true,
      builtIn: true,
      alwaysRequired: b.alwaysRequired === true,
      enumValues: null,
      description: b.description,
    };
  });
  const custom: AttributeDefinition[] = rows
    .filter((r) => !r.builtIn)
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((r) => ({
      key: r.key,
      label: r.label,
      type: r.type,
      required: r.required,
      builtIn: false,
      alwaysRequired: false,
      enumValues: r.enumValues ? (JSON.parse(r.enumValues) as string[]) : null,
      description: r.description,
    }));
  return new AttributeSet([...builtIns, ...custom]);
}

export async function getStoredDefinition(db: Db, tenantId: string, key: string) {
  return db
    .select()
    .from(attributeDefinitions)
    .where(and(eq(attributeDefinitions.tenantId, tenantId), eq(attributeDefinitions.key, key)))
    .get();
}

export function throwIfErrors(errors: FieldError[], code: ConstructorParameters<typeof ApiError>[0] = "validation_failed"): void {
  if (errors.length > 0) throw invalidFields(errors, code);
}
