/**
 * SCIM Bulk (RFC 7644 §3.7) for Users and Groups. Operations run in order, each through the same functions as
 * the single-resource endpoints; `bulkId:<id>` anywhere in a later operation's path or data is
 * replaced by the id the earlier POST created. Bulk is not atomic (the RFC does not ask it to be).
 */
import { MAX_DOCUMENT_DEPTH } from "../lib/text";
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { MAX_BODY_BYTES } from "../http/body";
import { ApiError } from "../http/errors";
import { matches, parseETagList } from "../http/etag";
import { toApiError } from "../http/problem";
import { deleteCollection, type CollectionRow } from "../memberships/collections";
import { etagOf, type User } from "../users/model";
import { createGroup, getGroupRow, groupVersion, planFromPatch, planFromResource, writeGroup } from "./groups";
import { baseUrlOf, scimErrorBody, scimJson } from "./http";
import { parsePatchBody } from "./patch-parse";
import { BULK_REQUEST, BULK_RESPONSE } from "./schema";
import { coreContext, scimCreateUser, scimDeleteUser, scimPatchUser, scimReads, scimReplaceUser } from "./user-ops";
import type { Json } from "./users";

/** Each operation costs a handful of D1 queries; this keeps a request well inside a Worker's budget. */
export const BULK_MAX_OPERATIONS = 50;
export const BULK_MAX_PAYLOAD = MAX_BODY_BYTES;

function syntax(detail: string): ApiError {
  return new ApiError("invalid_syntax", detail, { errors: [{ path: "Operations", message: detail }] });
}

function lowerKeys(o: Json): Json {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v]));
}

/**
 * Replaces "bulkId:x" strings (whole values or path segments) with created ids. The body guard
 * already refuses documents nested deeper than MAX_DOCUMENT_DEPTH; the bound here keeps the
 * recursion safe on its own (a 10,000-level `data` once overflowed the stack).
 */
function resolveRefs(value: unknown, ids: Map<string, string>, missing: Set<string>, depth = 0): unknown {
  if (depth > MAX_DOCUMENT_DEPTH) throw syntax(`data nests deeper than ${MAX_DOCUMENT_DEPTH} levels.`);
  if (typeof value === "string") {
    return value.replace(/bulkId:([\w.-]+)/g, (whole, ref: string) => {
      const id = ids.get(ref);
      if (!id) {
        missing.add(ref);
        return whole;
      }
      return id;
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolveRefs(v, ids, missing, depth + 1));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, resolveRefs(v, ids, missing, depth + 1)]));
  }
  return value;
}

export async function bulkHandler(c: Context<AppEnv>): Promise<Response> {
  const body = (c.req.bodyCache.json ? await c.req.bodyCache.json : undefined) as Json | undefined;
  if (!body || typeof body !== "object" || Array.isArray(body)) throw syntax("The body must be a BulkRequest object.");
  const b = lowerKeys(body);
  if (!Array.isArray(b.schemas) || !b.schemas.includes(BULK_REQUEST)) throw syntax(`schemas must contain "${BULK_REQUEST}".`);
  if (!Array.isArray(b.operations)) throw syntax("Operations must be an array.");
  const ops = b.operations as unknown[];
  if (ops.length > BULK_MAX_OPERATIONS) {
    throw new ApiError("payload_too_large", `A bulk request may carry at most ${BULK_MAX_OPERATIONS} operations (maxOperations); this one has ${ops.length}. Split it.`);
  }
  let failOnErrors = Infinity;
  if (b.failonerrors !== undefined) {
    if (!Number.isInteger(b.failonerrors) || (b.failonerrors as number) < 1) throw syntax("failOnErrors must be a positive integer.");
    failOnErrors = b.failonerrors as number;
  }

  const ctx = coreContext(c);
  const base = baseUrlOf(c);
  const ids = new Map<string, string>();
  const results: Json[] = [];
  let errors = 0;

  for (const [i, raw] of ops.entries()) {
    if (errors >= failOnErrors) break;
    const op = raw && typeof raw === "object" ? lowerKeys(raw as Json) : {};
    const method = typeof op.method === "string" ? op.method.toUpperCase() : "";
    const bulkId = typeof op.bulkid === "string" ? op.bulkid : undefined;
    const entry: Json = { method, ...(bulkId ? { bulkId } : {}) };
    try {
      if (!["POST", "PUT", "PATCH", "DELETE"].includes(method)) throw syntax(`Operations[${i}].method must be POST, PUT, PATCH or DELETE.`);
      if (typeof op.path !== "string") throw syntax(`Operations[${i}].path is required, e.g. "/Users" or "/Users/{id}".`);
      if (method === "POST" && !bulkId) throw syntax(`Operations[${i}]: a POST needs a bulkId.`);
      const missing = new Set<string>();
      const path = resolveRefs(op.path, ids, missing) as string;
      const data = resolveRefs(op.data, ids, missing);
      if (missing.size > 0) {
        throw new ApiError("conflict", `Operations[${i}] refers to bulkId ${[...missing].join(", ")}, which no earlier operation created.`);
      }
      const version = typeof op.version === "string" ? op.version : undefined;
      // A bulk operation's `version` is its If-Match (RFC 7644 §3.7).
      const ifMatch = parseETagList(version);
      const m = /^\/(Users|Groups)(?:\/([^/]+))?$/i.exec(path);
      if (!m) throw new ApiError("not_found", `Operations[${i}].path '${path}' is not a Users or Groups path; bulk supports /Users, /Users/{id}, /Groups and /Groups/{id}.`);
      const resource = m[1]!.toLowerCase() === "users" ? "Users" : "Groups";
      const id = m[2];
      if ((method === "POST") !== (id === undefined)) throw syntax(`Operations[${i}]: ${method} needs ${method === "POST" ? `/${resource}` : `/${resource}/{id}`}.`);
      if (resource === "Groups") {
        const groupIfMatch = (g: CollectionRow) => {
          if (version === undefined) return undefined;
          const cond = parseETagList(version);
          if (!cond || !matches(cond, groupVersion(g))) throw new ApiError("precondition_failed", `version ${version} does not match the group's ${etagOf(groupVersion(g))}.`);
          return groupVersion(g);
        };
        let group: CollectionRow | undefined;
        let status: number;
        if (method === "POST") {
          group = await createGroup(ctx, planFromResource(data, true));
          if (bulkId) ids.set(bulkId, group.id);
          status = 201;
        } else if (method === "PUT") {
          const plan = planFromResource(data, false);
          group = await writeGroup(ctx, id!, () => plan, groupIfMatch);
          status = 200;
        } else if (method === "PATCH") {
          const patchOps = parsePatchBody(data);
          group = await writeGroup(ctx, id!, () => planFromPatch(patchOps, id!), groupIfMatch);
          status = 204;
        } else {
          groupIfMatch(await getGroupRow(ctx, id!));
          await deleteCollection(ctx, "group", id!);
          status = 204;
        }
        results.push({ ...entry, location: `${base}/Groups/${group?.id ?? id}`, ...(group ? { version: etagOf(groupVersion(group)) } : {}), status: String(status) });
        continue;
      }
      let user: User | undefined;
      let status: number;
      // Each operation: one read batch and one write batch, as the single-resource endpoints.
      if (method === "POST") {
        user = (await scimCreateUser(ctx, await scimReads(ctx, undefined, data), data)).user;
        if (bulkId) ids.set(bulkId, user.id);
        status = 201;
      } else if (method === "PUT") {
        user = (await scimReplaceUser(ctx, await scimReads(ctx, id, data), id!, data, ifMatch)).user;
        status = 200;
      } else if (method === "PATCH") {
        user = (await scimPatchUser(ctx, await scimReads(ctx, id, data), base, id!, data, ifMatch)).user;
        status = 200;
      } else {
        await scimDeleteUser(ctx, id!, ifMatch);
        status = 204;
      }
      const location = `${base}/Users/${user?.id ?? id}`;
      results.push({ ...entry, location, ...(user ? { version: etagOf(user.version) } : {}), status: String(status) });
    } catch (err) {
      errors += 1;
      const apiErr = toApiError(err, c.get("requestId"));
      results.push({ ...entry, status: String(apiErr.status), response: scimErrorBody(apiErr, c.get("requestId")) });
    }
  }
  return scimJson(c, { schemas: [BULK_RESPONSE], Operations: results });
}
