/**
 * Reading a SCIM PATCH request (RFC 7644 §3.5.2): the body and its operation list (any-case `op`,
 * an empty list), attribute paths with their optional value filter and sub-attribute, and the
 * case-insensitive lookups that filters and the apply step share. Separate from ./patch.ts, which
 * applies the operations to a document: groups use this half alone for their member paths.
 */
import { parseScimFilter, type Filter } from "../filter/parse";
import { ApiError } from "../http/errors";
import { PATCH_OP } from "./schema";
import type { Json } from "./users";

export const MAX_PATCH_OPERATIONS = 1000;

export interface PatchOperation {
  op: "add" | "replace" | "remove";
  path?: string;
  value?: unknown;
}

function syntax(detail: string, path = "Operations"): ApiError {
  return new ApiError("invalid_syntax", detail, { errors: [{ path, message: detail }] });
}

export function parsePatchBody(body: unknown): PatchOperation[] {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw syntax("The body must be a PatchOp object.", "(body)");
  const b = body as Json;
  const schemas = b.schemas;
  if (schemas !== undefined && (!Array.isArray(schemas) || !schemas.some((s) => typeof s === "string" && s.toLowerCase() === PATCH_OP.toLowerCase()))) {
    throw syntax(`schemas must contain "${PATCH_OP}".`, "schemas");
  }
  const opsKey = Object.keys(b).find((k) => k.toLowerCase() === "operations");
  const ops = opsKey ? b[opsKey] : undefined;
  if (!Array.isArray(ops)) throw syntax("Operations must be an array of {op, path, value}.");
  if (ops.length > MAX_PATCH_OPERATIONS) {
    throw new ApiError("too_many", `A PATCH may carry at most ${MAX_PATCH_OPERATIONS} operations; this one has ${ops.length}.`);
  }
  return ops.map((raw, i) => {
    if (!raw || typeof raw !== "object") throw syntax(`Operations[${i}] must be an object.`, `Operations[${i}]`);
    const o = Object.fromEntries(Object.entries(raw as Json).map(([k, v]) => [k.toLowerCase(), v]));
    const op = typeof o.op === "string" ? o.op.toLowerCase() : "";
    if (op !== "add" && op !== "replace" && op !== "remove") {
      throw syntax(`Operations[${i}].op must be add, replace or remove (any case); got ${JSON.stringify(o.op ?? null)}.`, `Operations[${i}].op`);
    }
    if (o.path !== undefined && (typeof o.path !== "string" || o.path.length > 1000)) {
      throw new ApiError("invalid_path", `Operations[${i}].path must be a string of at most 1000 characters.`);
    }
    const path = typeof o.path === "string" && o.path.trim() !== "" ? o.path.trim() : undefined;
    if (op === "remove" && !path) throw new ApiError("no_target", `Operations[${i}]: remove needs a path.`);
    if (op !== "remove" && !path && (!o.value || typeof o.value !== "object" || Array.isArray(o.value))) {
      throw syntax(`Operations[${i}]: ${op} without a path needs an object value of attributes.`, `Operations[${i}].value`);
    }
    return { op, path, value: o.value } as PatchOperation;
  });
}

// ---- paths ----

interface ParsedPath {
  /** Extension URN container, if the path named one. */
  container?: string;
  attr: string;
  filter?: Filter;
  sub?: string;
}

const NAME = "[A-Za-z$][\\w$-]*";
const PATH_RE = new RegExp(`^(${NAME})(?:\\[(.*)\\])?(?:\\.(${NAME}))?$`, "s");

export function parsePath(path: string, extensions: string[], coreUrn: string): ParsedPath {
  let rest = path;
  let container: string | undefined;
  const lower = path.toLowerCase();
  if (lower.startsWith("urn:")) {
    const ext = extensions.find((u) => lower.startsWith(`${u.toLowerCase()}:`) || lower === u.toLowerCase());
    if (ext) {
      container = ext;
      rest = path.slice(ext.length + 1);
    } else if (lower.startsWith(`${coreUrn.toLowerCase()}:`)) {
      rest = path.slice(coreUrn.length + 1);
    } else {
      throw new ApiError("invalid_path", `'${path}' names a schema this resource does not have.`);
    }
  }
  const m = PATH_RE.exec(rest);
  if (!m) throw new ApiError("invalid_path", `'${path}' is not a valid PATCH path (attr, attr.sub, attr[filter] or attr[filter].sub).`);
  let filter: Filter | undefined;
  if (m[2] !== undefined) {
    try {
      filter = parseScimFilter(m[2]);
    } catch (err) {
      throw err instanceof ApiError ? new ApiError("invalid_filter", `In path '${path}': ${err.message}`) : err;
    }
  }
  return { container, attr: m[1]!, filter, sub: m[3] };
}

// ---- in-memory matching for [filter] ----

export function keyOf(obj: Json, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

export function get(obj: Json, name: string): unknown {
  const k = keyOf(obj, name);
  return k === undefined ? undefined : obj[k];
}

export function norm(v: unknown): unknown {
  if (typeof v === "string") {
    if (/^(true|false)$/i.test(v)) return v.toLowerCase() === "true";
    return v.toLowerCase();
  }
  return v;
}

export function matchesElement(f: Filter, el: Json): boolean {
  switch (f.op) {
    case "and":
      return f.filters.every((x) => matchesElement(x, el));
    case "or":
      return f.filters.some((x) => matchesElement(x, el));
    case "not":
      return !matchesElement(f.filter, el);
    case "[]":
      return false;
    case "pr": {
      const v = get(el, f.attrPath);
      return v !== undefined && v !== null && v !== "";
    }
    default: {
      const a = norm(get(el, f.attrPath));
      const b = norm(f.compValue);
      if (a === undefined || a === null) return f.op === "ne" ? b !== null : b === null && f.op === "eq";
      switch (f.op) {
        case "eq":
          return a === b;
        case "ne":
          return a !== b;
        case "co":
          return typeof a === "string" && typeof b === "string" && a.includes(b);
        case "sw":
          return typeof a === "string" && typeof b === "string" && a.startsWith(b);
        case "ew":
          return typeof a === "string" && typeof b === "string" && a.endsWith(b);
        case "gt":
          return (a as string) > (b as string);
        case "ge":
          return (a as string) >= (b as string);
        case "lt":
          return (a as string) < (b as string);
        case "le":
          return (a as string) <= (b as string);
        default:
          return false;
      }
    }
  }
}

/** `type eq "work" and primary eq true` -> {type: "work", primary: true}: what an upsert creates. */
export function equalities(f: Filter): Json {
  if (f.op === "eq") return { [f.attrPath]: f.compValue };
  if (f.op === "and") return Object.assign({}, ...f.filters.map(equalities));
  return {};
}

// ---- applying ----
