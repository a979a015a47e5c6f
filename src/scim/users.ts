/**
 * SCIM User <-> users core translation. Shapes only: every rule (required attributes, uniqueness,
 * formats, manager checks) is the core's. See docs/scim.md for the mapping table.
 */
import { ApiError, type FieldError } from "../http/errors";
import { isEmail, type AttributeSet } from "../users/attributes";
import { etagOf, type User, type UserFields } from "../users/model";
import { CORE_USER, coreUserAttributes, ENTERPRISE_USER, enterpriseUserAttributes, PROVISIONING_USER, provisioningUserAttributes, TENANT_USER, tenantUserAttributes, type ScimAttribute } from "./schema";
import type { FolderRef } from "./user-folders";
import { byRfcOrder, SCIM_PLACEMENTS, scimErrorPath } from "./user-fields";

export type Json = Record<string, unknown>;

export function userLocation(baseUrl: string, id: string): string {
  return `${baseUrl}/Users/${id}`;
}

/** The service extension (PROVISIONING_USER): folders, then the read-only account facts that are set. */
function serviceExtension(user: User, folders: FolderRef[]): Json {
  const out: Json = {};
  if (folders.length > 0) out.folders = folders.map((f) => ({ value: f.value, display: f.display }));
  if (user.lastActivityAt !== null) out.lastActivityAt = user.lastActivityAt;
  if (user.lockedUntil !== null) out.lockedUntil = user.lockedUntil;
  return out;
}

/**
 * The full SCIM representation of a user (before attributes/excludedAttributes). `folders` are the
 * user's current folders (scim/user-folders.ts), read with the user.
 */
export function toScimUser(user: User, baseUrl: string, attrs: AttributeSet, folders: FolderRef[] = []): Json {
  const containers: Record<string, Json> = { "": {}, [ENTERPRISE_USER]: {} };
  for (const p of SCIM_PLACEMENTS) {
    const value = user[p.name];
    if (value === null || value === "") continue;
    const target = containers[p.container]!;
    if (p.listType) target[p.attr] = [{ value, type: p.listType, primary: true }];
    else if (p.sub) {
      const parent = ((target[p.attr] as Json | undefined) ??= {});
      parent[p.sub] = value;
      if (p.sub === "value" && p.field.references === "user") parent.$ref = userLocation(baseUrl, value);
    } else target[p.attr] = value;
  }
  const core = containers[""]!;
  if (core.name) core.name = { formatted: `${user.firstName} ${user.lastName}`.trim(), ...(core.name as Json) };
  const enterprise = Object.fromEntries(byRfcOrder(Object.entries(containers[ENTERPRISE_USER]!), ([k]) => k));
  const custom: Json = {};
  for (const d of attrs.custom) {
    const v = user.attributes[d.key];
    if (v !== undefined && v !== null) custom[d.key] = v;
  }
  const service = serviceExtension(user, folders);
  const schemas = [CORE_USER];
  if (Object.keys(enterprise).length > 0) schemas.push(ENTERPRISE_USER);
  if (Object.keys(custom).length > 0) schemas.push(TENANT_USER);
  if (Object.keys(service).length > 0) schemas.push(PROVISIONING_USER);
  const { externalId, ...attributes }: Json = { ...core, active: user.active };
  return {
    schemas,
    id: user.id,
    ...(externalId !== undefined ? { externalId } : {}),
    ...Object.fromEntries(byRfcOrder(Object.entries(attributes), ([k]) => k)),
    ...(Object.keys(enterprise).length > 0 ? { [ENTERPRISE_USER]: enterprise } : {}),
    ...(Object.keys(custom).length > 0 ? { [TENANT_USER]: custom } : {}),
    ...(Object.keys(service).length > 0 ? { [PROVISIONING_USER]: service } : {}),
    meta: {
      resourceType: "User",
      created: user.createdAt,
      lastModified: user.updatedAt,
      location: userLocation(baseUrl, user.id),
      version: etagOf(user.version),
    },
  };
}

// ---- Input: canonical names, tolerant value shapes ----

function invalid(path: string, message: string): ApiError {
  return new ApiError("validation_failed", `${path}: ${message}`, { errors: [{ path, message }] });
}

/** Entra sends booleans as "True"/"False". */
export function coerceBoolean(value: unknown, path: string): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === "true";
  throw invalid(path, "must be true or false");
}

function coerceValue(def: ScimAttribute, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return null;
  switch (def.type) {
    case "boolean":
      return coerceBoolean(value, path);
    case "decimal":
    case "integer":
      if (typeof value === "number" && Number.isFinite(value)) return value;
      if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
      throw invalid(path, "must be a number");
    case "complex":
      return canonicalComplex(def, value, path);
    default:
      if (typeof value === "string") return value;
      if (typeof value === "number" || typeof value === "boolean") return String(value);
      throw invalid(path, "must be a string");
  }
}

function canonicalComplex(def: ScimAttribute, value: unknown, path: string): unknown {
  const subs = new Map((def.subAttributes ?? []).map((s) => [s.name.toLowerCase(), s]));
  const one = (v: unknown, p: string): Json | null => {
    if (v === null || v === undefined) return null;
    // A bare value for a complex attribute with a `value` sub-attribute (Entra's manager: "id").
    if (typeof v !== "object" && subs.has("value")) return { value: coerceValue(subs.get("value")!, v, `${p}.value`) };
    if (typeof v !== "object" || Array.isArray(v)) throw invalid(p, "must be an object");
    const out: Json = {};
    for (const [k, raw] of Object.entries(v as Json)) {
      const sub = subs.get(k.toLowerCase());
      if (!sub) continue; // sub-attributes this service does not keep are ignored
      const coerced = coerceValue(sub, raw, `${p}.${sub.name}`);
      if (coerced !== null) out[sub.name] = coerced;
    }
    return out;
  };
  if (def.multiValued) {
    const list = Array.isArray(value) ? value : [value];
    return list.map((v, i) => one(v, `${path}[${i}]`)).filter((v): v is Json => v !== null);
  }
  // Single-element arrays for single-valued attributes (Entra's manager, PATCH values).
  if (Array.isArray(value)) {
    if (value.length > 1) throw invalid(path, "takes one value, not a list");
    return value.length === 0 ? null : one(value[0], path);
  }
  return one(value, path);
}

function canonicalObject(defs: ScimAttribute[], input: Json, path: string): Json {
  const byName = new Map(defs.map((d) => [d.name.toLowerCase(), d]));
  const out: Json = {};
  for (const [k, raw] of Object.entries(input)) {
    const def = byName.get(k.toLowerCase());
    if (!def) continue;
    const value = coerceValue(def, raw, path ? `${path}:${def.name}` : def.name);
    if (value !== null) out[def.name] = value;
  }
  return out;
}

export interface UserSchemaSet {
  core: ScimAttribute[];
  enterprise: ScimAttribute[];
  tenant: ScimAttribute[];
  provisioning: ScimAttribute[];
}

export function schemaSet(attrs: AttributeSet): UserSchemaSet {
  return { core: coreUserAttributes(attrs), enterprise: enterpriseUserAttributes(attrs), tenant: tenantUserAttributes(attrs), provisioning: provisioningUserAttributes() };
}

/**
 * A request body with canonical attribute names (names are case-insensitive in SCIM), coerced
 * values, nulls dropped, and unknown attributes ignored (RFC 7643 lets a provider ignore them;
 * Entra and Okta send `roles`, `groups`, `addresses`).
 */
export function canonicalUser(input: unknown, set: UserSchemaSet): Json {
  if (!input || typeof input !== "object" || Array.isArray(input)) {
    throw new ApiError("invalid_syntax", "The body must be a SCIM User object.", { errors: [{ path: "(body)", message: "must be a JSON object" }] });
  }
  const body = input as Json;
  const out = canonicalObject(set.core, body, "");
  for (const [k, v] of Object.entries(body)) {
    const key = k.toLowerCase();
    if (key === "externalid" && v !== null && v !== undefined) {
      if (typeof v !== "string") throw invalid("externalId", "must be a string");
      out.externalId = v;
    } else if (key === ENTERPRISE_USER.toLowerCase() && v && typeof v === "object") {
      out[ENTERPRISE_USER] = canonicalObject(set.enterprise, v as Json, ENTERPRISE_USER);
    } else if (key === TENANT_USER.toLowerCase() && v && typeof v === "object") {
      out[TENANT_USER] = canonicalObject(set.tenant, v as Json, TENANT_USER);
    } else if (key === PROVISIONING_USER.toLowerCase() && v && typeof v === "object") {
      out[PROVISIONING_USER] = canonicalObject(set.provisioning, v as Json, PROVISIONING_USER);
    }
  }
  return out;
}

function pickOne(list: unknown): Json | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const items = list as Json[];
  return items.find((e) => e.primary === true) ?? items.find((e) => String(e.type ?? "").toLowerCase() === "work") ?? items[0];
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

/**
 * Core fields from a canonical SCIM user. Every mapped field is set (null when absent), which is
 * what PUT and PATCH need: the result replaces the stored user. `current` supplies what SCIM
 * leaves alone (externalId when a PUT omits it).
 */
export function fieldsFromScim(user: Json, attrs: AttributeSet, current?: User): UserFields {
  const fields: UserFields = {};
  for (const p of SCIM_PLACEMENTS) {
    const container = (p.container ? (user[p.container] ?? {}) : user) as Json;
    const raw = container[p.attr];
    const picked = p.listType ? pickOne(raw) : undefined;
    // The one value kept is always rendered primary; storing primary:false and answering true
    // would be silently ignoring the client (RFC 7643 §2.4), so say so instead.
    if (picked && picked.primary === false) {
      throw invalid(`${p.attr}.primary`, `this service keeps one ${p.listType} ${p.attr === "emails" ? "email" : "phone number"} per user and it is always primary; send primary true or omit it`);
    }
    const value = p.listType ? picked?.value : p.sub ? (raw as Json | undefined)?.[p.sub] : raw;
    fields[p.name] = str(value);
  }
  const tenant = (user[TENANT_USER] ?? {}) as Json;
  const attributes: Record<string, unknown> = {};
  for (const d of attrs.custom) attributes[d.key] = tenant[d.key] ?? null;
  const userName = fields.userName ?? null;
  const email = fields.email ?? (userName && isEmail(userName) ? userName : null);
  return {
    ...fields,
    // Required by the core; SCIM makes it optional, so a create without it uses userName (the
    // IdP's own unique key) and a PUT without it keeps the stored one.
    externalId: fields.externalId ?? current?.externalId ?? userName,
    // Stored only when it differs from the email, so a REST user read and written back over SCIM
    // keeps "userName is my email" and follows later email changes. A tenant that requires
    // userName wants an explicit one on every user, so there it is stored as sent.
    userName: userName !== null && userName === email && attrs.builtIn("userName")?.required !== true ? null : userName,
    email,
    active: typeof user.active === "boolean" ? user.active : current ? current.active : true,
    attributes,
    // Write-only: never rendered, so present only when the client sent one; absent keeps it.
    ...(typeof user.password === "string" ? { password: user.password } : {}),
  };
}

/** Core field -> the SCIM path its errors are reported under; fields SCIM does not carry keep their name. */
const CORE_TO_SCIM: Record<string, string> = Object.fromEntries(SCIM_PLACEMENTS.map((p) => [p.name, scimErrorPath(p)]));

export function scimPathOf(corePath: string): string {
  if (corePath.startsWith("attributes.")) return `${TENANT_USER}:${corePath.slice("attributes.".length)}`;
  return CORE_TO_SCIM[corePath] ?? corePath;
}

/** Re-labels a core error with SCIM attribute names; erased users are simply gone (404). */
export function translateCoreError(err: unknown): unknown {
  if (!(err instanceof ApiError)) return err;
  if (err.code === "user_erased") return new ApiError("not_found", err.message.replace(/ was erased.*$/, " does not exist (it was deleted)."));
  if (err.errors.length === 0) return err;
  const errors: FieldError[] = err.errors.map((e) => ({ path: scimPathOf(e.path), message: e.message }));
  let detail = errors.map((e) => `${e.path}: ${e.message}`).join("; ");
  if (err.code === "conflict") {
    const existing = typeof err.extra.existingUserId === "string" ? ` (id ${err.extra.existingUserId})` : "";
    const field = errors[0]!.path === "userName" ? "userName (a user's userName defaults to its email)" : errors[0]!.path;
    detail = `A user with this ${field} already exists${existing}.`;
  }
  return new ApiError(err.code, detail, { errors, extra: err.extra, headers: err.headers });
}
