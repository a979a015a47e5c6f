/** SCIM wire details: media type, Error bodies, attributes/excludedAttributes, paging parameters. */
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../http/errors";
import { ERROR_SCHEMA, SEARCH_REQUEST } from "./schema";

export const SCIM_MEDIA_TYPE = "application/scim+json; charset=utf-8";

export function scimJson(c: Context<AppEnv>, body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return c.newResponse(JSON.stringify(body), status as 200, { ...headers, "Content-Type": SCIM_MEDIA_TYPE });
}

/**
 * RFC 7644 §3.12 Error body from a catalogue error: status as a string, scimType where one applies.
 * `requestId` (the response's X-Request-Id) is an extra attribute, which SCIM clients ignore.
 */
export function scimErrorBody(err: ApiError, requestId?: string): Record<string, unknown> {
  return {
    schemas: [ERROR_SCHEMA],
    status: String(err.status),
    ...(err.scimType ? { scimType: err.scimType } : {}),
    detail: err.message,
    ...(requestId ? { requestId } : {}),
  };
}

export function renderScimError(c: Context, err: ApiError): Response {
  const requestId = (c as Context<AppEnv>).get("requestId") as string | undefined;
  return c.newResponse(JSON.stringify(scimErrorBody(err, requestId)), err.status as 400, { ...err.headers, "Content-Type": SCIM_MEDIA_TYPE });
}

export function isScimPath(url: string): boolean {
  return /^\/scim(\/|$)/i.test(new URL(url).pathname);
}

/** The tenant's SCIM base URL, for `meta.location` and `$ref`. */
export function baseUrlOf(c: Context<AppEnv>): string {
  return `${new URL(c.req.url).origin}/scim/v2`;
}

/** Query parameters are matched case-insensitively (clients send startindex, Count, ...). */
export function query(c: Context<AppEnv>, name: string): string | undefined {
  const q = c.req.queries();
  const key = Object.keys(q).find((k) => k.toLowerCase() === name.toLowerCase());
  return key ? q[key]?.[0] : undefined;
}

/** SCIM paging numbers are 32-bit decimal integers; larger ones never reach the database. */
const MAX_PAGING_INT = 2_147_483_647;

/**
 * startIndex/count from a query string or a /.search body: a decimal integer (a sign allowed, since
 * RFC 7644 §3.4.2.4 gives negative values a meaning) within 32 bits. `0x10`, `1e3`, `5.0` and
 * 2^63 are 400s with scimType invalidValue, never reinterpreted.
 */
export function intParam(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const n = typeof value === "number" ? value : typeof value === "string" && /^[+-]?[0-9]{1,10}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || Math.abs(n) > MAX_PAGING_INT) {
    const message = `must be a decimal integer between -${MAX_PAGING_INT} and ${MAX_PAGING_INT}`;
    throw new ApiError("invalid_query", `${name} ${message}.`, { errors: [{ path: name, message }] });
  }
  return n;
}

// ---- attributes / excludedAttributes (RFC 7644 §3.4.2.5) ----

const MAX_ATTRIBUTE_LIST = 2000;

export interface Projection {
  attributes?: string[];
  excludedAttributes?: string[];
}

function splitList(value: string | undefined, name: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (value.length > MAX_ATTRIBUTE_LIST) {
    throw new ApiError("invalid_query", `${name} is longer than ${MAX_ATTRIBUTE_LIST} characters.`, { errors: [{ path: name, message: "is too long" }] });
  }
  const list = value.split(",").map((s) => s.trim()).filter(Boolean);
  return list.length > 0 ? list : undefined;
}

export function projectionFrom(attributes: string | undefined, excludedAttributes: string | undefined): Projection {
  return { attributes: splitList(attributes, "attributes"), excludedAttributes: splitList(excludedAttributes, "excludedAttributes") };
}

/** Always returned whatever the request says (RFC 7643 `returned: always`). */
const ALWAYS = new Set(["id", "schemas"]);

interface PathParts {
  container?: string;
  attr: string;
  sub?: string;
}

/** Splits `[urn:]attr[.sub]`, matching the URN against the resource's extension keys. */
function parsePath(path: string, resource: Record<string, unknown>): PathParts | { container: string } {
  const lower = path.toLowerCase();
  for (const key of Object.keys(resource)) {
    if (!key.startsWith("urn:")) continue;
    const k = key.toLowerCase();
    if (lower === k) return { container: key };
    if (lower.startsWith(`${k}:`)) {
      const [attr, sub] = path.slice(k.length + 1).split(".");
      return { container: key, attr: attr!, sub };
    }
  }
  // Core attributes may carry the core URN.
  const core = /^urn:ietf:params:scim:schemas:core:2\.0:(?:user|group):/i.exec(path);
  const rest = core ? path.slice(core[0].length) : path;
  const [attr, sub] = rest.split(".");
  return { attr: attr!, sub };
}

function findKey(obj: Record<string, unknown>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

function pick(resource: Record<string, unknown>, paths: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(resource)) if (ALWAYS.has(key)) out[key] = resource[key];
  for (const path of paths) {
    const p = parsePath(path, resource);
    const source = "attr" in p ? (p.container ? (resource[p.container] as Record<string, unknown> | undefined) : resource) : undefined;
    if (!("attr" in p)) {
      if (resource[p.container] !== undefined) out[p.container] = resource[p.container];
      continue;
    }
    if (!source || typeof source !== "object") continue;
    const key = findKey(source, p.attr);
    if (!key) continue;
    const target = p.container ? ((out[p.container] ??= {}) as Record<string, unknown>) : out;
    const value = source[key];
    if (!p.sub) {
      target[key] = value;
      continue;
    }
    const pickSub = (v: unknown) => {
      if (!v || typeof v !== "object") return undefined;
      const sk = findKey(v as Record<string, unknown>, p.sub!);
      return sk ? { [sk]: (v as Record<string, unknown>)[sk] } : undefined;
    };
    if (Array.isArray(value)) {
      const prev = (target[key] as Record<string, unknown>[] | undefined) ?? value.map(() => ({}));
      target[key] = value.map((v, i) => ({ ...prev[i], ...pickSub(v) }));
    } else {
      const got = pickSub(value);
      if (got) target[key] = { ...(target[key] as Record<string, unknown> | undefined), ...got };
    }
  }
  return out;
}

function drop(resource: Record<string, unknown>, paths: string[]): Record<string, unknown> {
  const out = structuredClone(resource);
  for (const path of paths) {
    const p = parsePath(path, out);
    if (!("attr" in p)) {
      delete out[p.container];
      continue;
    }
    const source = p.container ? (out[p.container] as Record<string, unknown> | undefined) : out;
    if (!source || typeof source !== "object") continue;
    const key = findKey(source, p.attr);
    if (!key || (!p.container && ALWAYS.has(key))) continue;
    if (!p.sub) {
      delete source[key];
      continue;
    }
    const values = Array.isArray(source[key]) ? (source[key] as unknown[]) : [source[key]];
    for (const v of values) {
      if (v && typeof v === "object") {
        const sk = findKey(v as Record<string, unknown>, p.sub);
        if (sk) delete (v as Record<string, unknown>)[sk];
      }
    }
  }
  return out;
}

export function project(resource: Record<string, unknown>, projection: Projection): Record<string, unknown> {
  if (projection.attributes) return pick(resource, projection.attributes);
  if (projection.excludedAttributes) return drop(resource, projection.excludedAttributes);
  return resource;
}

/** `attributes` / `excludedAttributes` of the query string. */
export function projectionOf(c: Context<AppEnv>): Projection {
  return projectionFrom(query(c, "attributes"), query(c, "excludedAttributes"));
}

/** The list parameters of a GET on a resource collection (/Users, /Groups). */
export function listQueryOf(c: Context<AppEnv>) {
  return {
    filter: query(c, "filter"),
    startIndex: intParam(query(c, "startIndex"), "startIndex"),
    count: intParam(query(c, "count"), "count"),
    sortBy: query(c, "sortBy"),
    sortOrder: query(c, "sortOrder"),
    projection: projectionOf(c),
  };
}

/** A SearchRequest's `attributes` / `excludedAttributes`: an array of names (or one string). */
export function listParam(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.join(",");
  if (typeof value === "string") return value;
  throw new ApiError("invalid_syntax", `${name} must be a list of attribute names.`, { errors: [{ path: name, message: "must be an array of strings" }] });
}

/** The list parameters of a POST `.search` body (a SearchRequest; member names in any case). */
export function searchQueryOf(body: unknown) {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new ApiError("invalid_syntax", "The body must be a SearchRequest object.");
  const b = Object.fromEntries(Object.entries(body).map(([k, v]) => [k.toLowerCase(), v]));
  if (Array.isArray(b.schemas) && !b.schemas.includes(SEARCH_REQUEST)) {
    throw new ApiError("invalid_syntax", `schemas must contain "${SEARCH_REQUEST}".`, { errors: [{ path: "schemas", message: `must contain ${SEARCH_REQUEST}` }] });
  }
  if (b.filter !== undefined && typeof b.filter !== "string") throw new ApiError("invalid_filter", "filter must be a string.");
  return {
    filter: b.filter as string | undefined,
    startIndex: intParam(b.startindex, "startIndex"),
    count: intParam(b.count, "count"),
    sortBy: typeof b.sortby === "string" ? b.sortby : undefined,
    sortOrder: typeof b.sortorder === "string" ? b.sortorder : undefined,
    projection: projectionFrom(listParam(b.attributes, "attributes"), listParam(b.excludedattributes, "excludedAttributes")),
  };
}
