/**
 * SCIM PATCH (RFC 7644 §3.5.2) applied in memory to a resource document. The caller loads the
 * resource, applies every operation here, and writes the result once (checked against the version
 * it loaded), so a PATCH is all or nothing.
 *
 * Tolerates what Entra and Okta actually send: any-case `op`, pathless values with dotted and URN
 * keys, filtered paths that upsert (`emails[type eq "work"].value`), single-element arrays, string
 * booleans (coerced later by the schema), and an empty `Operations` list. Reading the request
 * (body, paths, value filters) is ./patch-parse.ts; this file is the apply step.
 */
import { ApiError } from "../http/errors";
import { equalities, get, keyOf, matchesElement, norm, parsePath, type PatchOperation } from "./patch-parse";
import type { Json } from "./users";

/** Attributes a client may never write; readOnly sub-attributes (name.formatted) are ignored instead. */
const IMMUTABLE = new Set(["id", "meta", "schemas"]);
const IGNORED = new Set(["name.formatted", "manager.displayname", "manager.$ref", "password"]);

export interface PatchTarget {
  /** Canonical-name lookup: which top-level attributes are multi-valued / complex. */
  isMultiValued(container: string | undefined, attr: string): boolean;
  /** The extension that holds an attribute named without its URN (Entra's path "manager"), if not core. */
  extensionOf(attr: string): string | undefined;
  /** Whether the service keeps this attribute; operations on others are ignored (roles, addresses). */
  isKnown(container: string | undefined, attr: string): boolean;
  extensions: string[];
  coreUrn: string;
}

function containerOf(doc: Json, container: string | undefined): Json {
  if (!container) return doc;
  const key = keyOf(doc, container) ?? container;
  if (!doc[key] || typeof doc[key] !== "object") doc[key] = {};
  return doc[key] as Json;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function setAttr(target: Json, attr: string, value: unknown): void {
  const key = keyOf(target, attr) ?? attr;
  target[key] = value;
}

function applyWithPath(doc: Json, op: PatchOperation, t: PatchTarget): void {
  // A path that is a whole extension (`urn:...:enterprise:2.0:User`): each attribute in the value.
  const ext = t.extensions.find((u) => u.toLowerCase() === op.path!.toLowerCase());
  if (ext) {
    if (op.op === "remove") {
      setAttr(doc, ext, {});
      return;
    }
    if (!op.value || typeof op.value !== "object" || Array.isArray(op.value)) {
      throw new ApiError("validation_failed", `${ext}: the value must be an object of its attributes.`, { errors: [{ path: ext, message: "must be an object" }] });
    }
    for (const [k, v] of Object.entries(op.value as Json)) applyWithPath(doc, { op: op.op, path: `${ext}:${k}`, value: v }, t);
    return;
  }
  const p = parsePath(op.path!, t.extensions, t.coreUrn);
  const label = `${p.attr}${p.sub ? `.${p.sub}` : ""}`.toLowerCase();
  if (!p.container && IMMUTABLE.has(p.attr.toLowerCase())) {
    throw new ApiError("mutability", `'${op.path}' is read-only and cannot be changed with PATCH.`);
  }
  if (IGNORED.has(label) || IGNORED.has(p.attr.toLowerCase())) return;
  // Entra sends `manager` (and other enterprise attributes) without the URN.
  if (!p.container) p.container = t.extensionOf(p.attr);
  // Attributes this service does not keep are ignored, as on create (Entra sends roles, addresses).
  if (!t.isKnown(p.container, p.attr)) return;
  const target = containerOf(doc, p.container);
  const multi = t.isMultiValued(p.container, p.attr);
  const current = get(target, p.attr);

  if (!multi) {
    if (p.filter) throw new ApiError("invalid_path", `'${p.attr}' is single-valued; a [filter] does not apply to it.`);
    if (op.op === "remove") {
      if (!p.sub) return setAttr(target, p.attr, null);
      if (current && typeof current === "object") setAttr(current as Json, p.sub, null);
      return;
    }
    let value = op.value;
    // Single-element arrays for single-valued attributes (Entra's manager, among others).
    if (Array.isArray(value)) {
      if (value.length > 1) {
        throw new ApiError("validation_failed", `${op.path}: takes one value, not a list of ${value.length}.`, { errors: [{ path: op.path!, message: "takes one value" }] });
      }
      value = value[0];
    }
    if (!p.sub) {
      // add and replace on a complex attribute both merge: sub-attributes not given stay (RFC 7644 §3.5.2.3).
      if (current && typeof current === "object" && !Array.isArray(current) && value && typeof value === "object" && !Array.isArray(value)) {
        setAttr(target, p.attr, { ...(current as Json), ...(value as Json) });
      } else {
        setAttr(target, p.attr, value);
      }
      return;
    }
    const obj = current && typeof current === "object" && !Array.isArray(current) ? (current as Json) : {};
    setAttr(obj, p.sub, value);
    setAttr(target, p.attr, obj);
    return;
  }

  // Multi-valued attribute (emails, phoneNumbers, ...).
  const list = asList(current).filter((e): e is Json => !!e && typeof e === "object") as Json[];
  const matches = (el: Json) => (p.filter ? matchesElement(p.filter, el) : true);
  if (op.op === "remove") {
    if (!p.sub) {
      if (!p.filter && op.value !== undefined) {
        // Entra: remove with a value list removes only the listed values.
        const drop = asList(op.value).map((v) => norm(v && typeof v === "object" ? get(v as Json, "value") : v));
        return setAttr(target, p.attr, list.filter((el) => !drop.includes(norm(get(el, "value")))));
      }
      return setAttr(target, p.attr, list.filter((el) => !matches(el)));
    }
    for (const el of list) if (matches(el)) setAttr(el, p.sub, null);
    return setAttr(target, p.attr, list);
  }
  if (p.sub) {
    const hits = list.filter(matches);
    if (hits.length === 0) {
      // Entra expects a filtered path that matches nothing to create the element.
      list.push({ ...(p.filter ? equalities(p.filter) : {}), [p.sub]: Array.isArray(op.value) ? op.value[0] : op.value });
    } else {
      for (const el of hits) setAttr(el, p.sub, Array.isArray(op.value) ? op.value[0] : op.value);
    }
    return setList(target, p.attr, list, hits.length === 0 ? [list[list.length - 1]!] : hits);
  }
  const values = asList(op.value).map((v) => (v && typeof v === "object" ? (v as Json) : { value: v }));
  if (p.filter) {
    const rest = list.filter((el) => !matches(el));
    const hits = list.filter(matches);
    const merged = values.map((v) => ({ ...(hits[0] ?? equalities(p.filter!)), ...v }));
    return setList(target, p.attr, [...rest, ...merged], merged);
  }
  if (op.op === "replace") return setList(target, p.attr, values, values);
  // add: append, skipping values already present.
  const touched: Json[] = [];
  for (const v of values) {
    const value = norm(get(v, "value"));
    const same = list.find((el) => norm(get(el, "value")) === value && value !== undefined);
    if (same) Object.assign(same, v);
    else list.push(v);
    touched.push(same ?? v);
  }
  setList(target, p.attr, list, touched);
}

/** RFC 7644 §3.5.2: setting one value's primary to true makes every other value non-primary. */
function setList(target: Json, attr: string, list: Json[], touched: Json[]): void {
  const primary = touched.find((el) => norm(get(el, "primary")) === true);
  if (primary) {
    for (const el of list) if (el !== primary && get(el, "primary") !== undefined) setAttr(el, "primary", false);
  }
  setAttr(target, attr, list);
}

function applyPathless(doc: Json, op: PatchOperation, t: PatchTarget): void {
  for (const [key, value] of Object.entries(op.value as Json)) {
    const lower = key.toLowerCase();
    if (IMMUTABLE.has(lower)) continue; // Okta sends {id, displayName}; id cannot change, so it is ignored
    const ext = t.extensions.find((u) => u.toLowerCase() === lower);
    if (ext) {
      // {"urn:...:enterprise:2.0:User": {...}}: each attribute inside is its own operation.
      if (value && typeof value === "object") {
        for (const [k, v] of Object.entries(value as Json)) applyWithPath(doc, { op: op.op, path: `${ext}:${k}`, value: v }, t);
      }
      continue;
    }
    // Dotted (`name.givenName`) and URN (`urn:...:employeeNumber`) keys are paths.
    applyWithPath(doc, { op: op.op, path: key, value }, t);
  }
}

/** Applies the operations to `doc` in order; throws on the first bad one (nothing is written then). */
export function applyPatch(doc: Json, ops: PatchOperation[], t: PatchTarget): Json {
  for (const op of ops) {
    if (op.path) applyWithPath(doc, op, t);
    else applyPathless(doc, op, t);
  }
  return doc;
}
