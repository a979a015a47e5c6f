/**
 * The SCIM 2.0 service provider at /scim/v2 (RFC 7643/7644) for Users, Groups (group-routes.ts) and discovery. Adapts shapes
 * only: users are created, read, changed and erased through the users core, so they are the same
 * users as /v1.
 */
import { and, asc, count, desc, eq, gt, isNull, sql, type SQL } from "drizzle-orm";
import { Hono, type Context } from "hono";
import { createMiddleware } from "hono/factory";
import { demandOneScope } from "../auth/middleware";
import { users } from "../db/schema";
import type { AppEnv } from "../env";
import { ApiError } from "../http/errors";
import { matches, parseETagList } from "../http/etag";
import type { ScalarAttr } from "../filter/attributes";
import { FilterCompiler } from "../filter/compile";
import { parseScimFilter } from "../filter/parse";
import { loadAttributeSet, type AttributeSet } from "../users/attributes";
import { compileWithDefinitionsIfNeeded } from "../users/filter-attributes";
import { etagOf, toUser, type User } from "../users/model";
import { loadRoles } from "../users/references";
import { anchorFor, cachedCount, rememberCount, rememberPageEnd } from "./paging";
import { baseUrlOf, listQueryOf, project, projectionOf, query, scimJson, searchQueryOf, type Projection } from "./http";
import {
  CORE_GROUP,
  CORE_USER,
  ENTERPRISE_USER,
  groupSchema,
  LIST_RESPONSE,
  TENANT_USER,
  userFilterMap,
  userSchemas,
} from "./schema";
import { toScimUser, type Json } from "./users";
import { groupRoutes } from "./group-routes";
import { bulkHandler, BULK_MAX_OPERATIONS, BULK_MAX_PAYLOAD } from "./bulk";
import { coreContext, scimCreateUser, scimDeleteUser, scimReads, scimReadUser, scimPatchUser, scimReplaceUser } from "./user-ops";

export const DEFAULT_COUNT = 100;
export const MAX_COUNT = 200;

export const scimRouter = new Hono<AppEnv>();

/** Only tokens with the `scim` scope; other tokens are told they are not SCIM tokens. */
export const requireScimScope = createMiddleware<AppEnv>(async (c, next) => {
  demandOneScope(c, "scim", "This token is not a SCIM token: it lacks the 'scim' scope. Create a token with the 'scim' scope for your identity provider.", "scim");
  await next();
});


function userResponse(c: Context<AppEnv>, user: User, attrs: AttributeSet, projection: Projection, status = 200): Response {
  const base = baseUrlOf(c);
  const headers: Record<string, string> = { ETag: etagOf(user.version) };
  if (status === 201) headers.Location = `${base}/Users/${user.id}`;
  return scimJson(c, project(toScimUser(user, base, attrs), projection), status, headers);
}


// ---- list / search ----

interface ListParams {
  filter?: string;
  startIndex?: number;
  count?: number;
  sortBy?: string;
  sortOrder?: string;
  projection: Projection;
}

/** The filter and sort order of a list, compiled against the tenant's (or only the built-in) attributes. */
function compileListQuery(attrs: AttributeSet, params: ListParams): { filter: SQL | undefined; order: SQL[] } {
  const compiler = new FilterCompiler(userFilterMap(attrs));
  const filter = params.filter === undefined ? undefined : compiler.compile(parseScimFilter(params.filter));
  const order: SQL[] = [];
  if (params.sortBy) {
    const r = compiler.resolve(params.sortBy);
    let def = r.def;
    if (def.kind === "complex" && def.defaultSub) def = def.sub[def.defaultSub]!;
    if (def.kind !== "scalar") {
      throw new ApiError("invalid_query", `sortBy '${params.sortBy}' is not a sortable attribute.`, { errors: [{ path: "sortBy", message: "must name a single-valued attribute" }] });
    }
    const s = def as ScalarAttr;
    const expr = (s.type === "string" && !s.caseExact ? (s.lowerExpr ?? s.expr) : s.expr) as SQL;
    const descending = (params.sortOrder ?? "ascending").toLowerCase() === "descending";
    order.push(descending ? desc(expr) : asc(expr));
  } else if (params.sortOrder && !/^(ascending|descending)$/i.test(params.sortOrder)) {
    throw new ApiError("invalid_query", "sortOrder must be ascending or descending.", { errors: [{ path: "sortOrder", message: "must be ascending or descending" }] });
  }
  // The id (UUIDv7, creation order) breaks ties, so pages are stable.
  order.push(asc(users.id));
  return { filter, order };
}

/**
 * One round trip for a page: the rows, the role names, the count and the attribute definitions
 * (to render the tenant extension) are read together. Only a filter or sortBy on a custom
 * attribute needs the definitions first (users/filter-attributes.ts).
 */
async function listUsers(c: Context<AppEnv>, params: ListParams): Promise<Response> {
  const ctx = coreContext(c);
  let definitions: AttributeSet | undefined;
  const { filter, order } = await compileWithDefinitionsIfNeeded(ctx, (attrs) => {
    if (attrs.custom.length > 0) definitions = attrs;
    return compileListQuery(attrs, params);
  });
  // RFC 7644 §3.4.2.4: startIndex < 1 means 1; a negative count means 0.
  const startIndex = Math.max(1, params.startIndex ?? 1);
  const limit = Math.min(MAX_COUNT, Math.max(0, params.count ?? DEFAULT_COUNT));
  const where = and(eq(users.tenantId, ctx.tenantId), isNull(users.erasedAt), filter);
  // Unfiltered lists in id order (identity providers' imports) can use the paging hints.
  const hinted = params.filter === undefined && !params.sortBy;
  const anchor = hinted && startIndex > 1 ? anchorFor(ctx.tenantId, startIndex) : undefined;
  // The offset is walked over rowids only (a covering index scan for unfiltered lists), then the
  // page's rows are fetched: skipping 900,000 users does not read 900,000 rows. With an anchor
  // from the previous page, the page continues by keyset and skips nothing.
  const page = anchor
    ? ctx.db.select({ rowid: sql`rowid` }).from(users).where(and(where, gt(users.id, anchor))).orderBy(...order).limit(limit)
    : ctx.db.select({ rowid: sql`rowid` }).from(users).where(where).orderBy(...order).limit(limit).offset(startIndex - 1);
  // Without a filter the count is over every live user: pin it to the small partial index, which
  // the planner (without ANALYZE statistics) does not always pick by itself.
  const countSource = params.filter === undefined ? sql`${users} INDEXED BY users_tenant_live_idx` : users;
  const known = hinted ? cachedCount(ctx.tenantId) : undefined;
  const rowsQuery = ctx.db.select().from(users).where(sql`rowid IN ${page}`).orderBy(...order);
  const [rows, roles, counted, attrs] = await Promise.all([
    rowsQuery.all(),
    loadRoles(ctx.db, ctx.tenantId),
    known === undefined ? ctx.db.select({ n: count() }).from(countSource).where(where).get() : Promise.resolve({ n: known }),
    definitions ?? loadAttributeSet(ctx.db, ctx.tenantId),
  ]);
  const total = counted?.n ?? 0;
  if (hinted) {
    rememberCount(ctx.tenantId, total);
    const last = rows[rows.length - 1];
    if (last && rows.length === limit) rememberPageEnd(ctx.tenantId, startIndex + rows.length, last.id);
  }
  const base = baseUrlOf(c);
  const resources = limit === 0 ? [] : rows.map((row) => project(toScimUser(toUser(row, roles), base, attrs), params.projection));
  return scimJson(c, {
    schemas: [LIST_RESPONSE],
    totalResults: total,
    itemsPerPage: resources.length,
    startIndex,
    Resources: resources,
  });
}

scimRouter.get("/Users", (c) => listUsers(c, listQueryOf(c)));


scimRouter.post("/Users/.search", async (c) => {
  const body = (c.req.bodyCache.json ? await c.req.bodyCache.json : {}) as Json;
  return listUsers(c, searchQueryOf(body));
});

// ---- single users ----

// Writes: one read batch (token, definitions, roles, providers, the user, named managers), then
// one write batch.
scimRouter.post("/Users", async (c) => {
  const ctx = coreContext(c);
  const body = c.req.bodyCache.json ? await c.req.bodyCache.json : undefined;
  const reads = await scimReads(ctx, undefined, body);
  const user = await scimCreateUser(ctx, reads, body);
  return userResponse(c, user, reads.lookups.attrs, projectionOf(c), 201);
});

scimRouter.get("/Users/:id", async (c) => {
  const ctx = coreContext(c);
  const { user, attrs } = await scimReadUser(ctx, c.req.param("id"));
  const condition = parseETagList(c.req.header("If-None-Match"));
  if (condition && matches(condition, user.version)) return c.body(null, 304, { ETag: etagOf(user.version) });
  return userResponse(c, user, attrs, projectionOf(c));
});

scimRouter.put("/Users/:id", async (c) => {
  const ctx = coreContext(c);
  const body = c.req.bodyCache.json ? await c.req.bodyCache.json : undefined;
  const reads = await scimReads(ctx, c.req.param("id"), body);
  const user = await scimReplaceUser(ctx, reads, c.req.param("id"), body, parseETagList(c.req.header("If-Match")));
  return userResponse(c, user, reads.lookups.attrs, projectionOf(c));
});

scimRouter.patch("/Users/:id", async (c) => {
  const ctx = coreContext(c);
  const body = c.req.bodyCache.json ? await c.req.bodyCache.json : undefined;
  const reads = await scimReads(ctx, c.req.param("id"), body);
  const user = await scimPatchUser(ctx, reads, baseUrlOf(c), c.req.param("id"), body, parseETagList(c.req.header("If-Match")));
  return userResponse(c, user, reads.lookups.attrs, projectionOf(c));
});

scimRouter.delete("/Users/:id", async (c) => {
  await scimDeleteUser(coreContext(c), c.req.param("id"), parseETagList(c.req.header("If-Match")));
  return c.body(null, 204);
});

scimRouter.all("/Me", () => {
  throw new ApiError("not_implemented", "/Me is not supported: SCIM tokens belong to an identity provider, not to a user.");
});

scimRouter.post("/Bulk", bulkHandler);

scimRouter.route("/", groupRoutes);

// ---- discovery (RFC 7644 §4) ----

const noFilter = createMiddleware<AppEnv>(async (c, next) => {
  if (query(c, "filter") !== undefined) throw new ApiError("forbidden", "Discovery endpoints do not take a filter (RFC 7644 §4).");
  await next();
});

scimRouter.use("/ServiceProviderConfig", noFilter);
scimRouter.use("/ResourceTypes", noFilter);
scimRouter.use("/ResourceTypes/*", noFilter);
scimRouter.use("/Schemas", noFilter);
scimRouter.use("/Schemas/*", noFilter);

scimRouter.get("/ServiceProviderConfig", (c) => {
  const base = baseUrlOf(c);
  return scimJson(c, {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    documentationUri: `${new URL(c.req.url).origin}/docs`,
    patch: { supported: true },
    bulk: { supported: true, maxOperations: BULK_MAX_OPERATIONS, maxPayloadSize: BULK_MAX_PAYLOAD },
    filter: { supported: true, maxResults: MAX_COUNT },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: "oauthbearertoken",
        name: "Bearer token",
        description: "A tenant API token with the 'scim' scope, sent as 'Authorization: Bearer <token>'.",
        primary: true,
      },
    ],
    meta: { resourceType: "ServiceProviderConfig", location: `${base}/ServiceProviderConfig` },
  });
});

function userResourceType(base: string) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
    id: "User",
    name: "User",
    endpoint: "/Users",
    description: "User Account",
    schema: CORE_USER,
    schemaExtensions: [
      { schema: ENTERPRISE_USER, required: false },
      { schema: TENANT_USER, required: false },
    ],
    meta: { resourceType: "ResourceType", location: `${base}/ResourceTypes/User` },
  };
}

function groupResourceType(base: string) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
    id: "Group",
    name: "Group",
    endpoint: "/Groups",
    description: "Group",
    schema: CORE_GROUP,
    schemaExtensions: [],
    meta: { resourceType: "ResourceType", location: `${base}/ResourceTypes/Group` },
  };
}

scimRouter.get("/ResourceTypes", (c) => {
  const base = baseUrlOf(c);
  const list = [userResourceType(base), groupResourceType(base)];
  return scimJson(c, { schemas: [LIST_RESPONSE], totalResults: list.length, itemsPerPage: list.length, startIndex: 1, Resources: list });
});

scimRouter.get("/ResourceTypes/:id", (c) => {
  const id = c.req.param("id").toLowerCase();
  if (id === "user") return scimJson(c, userResourceType(baseUrlOf(c)));
  if (id === "group") return scimJson(c, groupResourceType(baseUrlOf(c)));
  throw new ApiError("not_found", `No resource type '${c.req.param("id")}'. This endpoint has: User, Group.`);
});

async function schemaDocs(c: Context<AppEnv>) {
  const ctx = coreContext(c);
  const attrs = await loadAttributeSet(ctx.db, ctx.tenantId);
  const base = baseUrlOf(c);
  return [...userSchemas(attrs), groupSchema()].map((s) => ({
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
    ...s,
    meta: { resourceType: "Schema", location: `${base}/Schemas/${s.id}` },
  }));
}

scimRouter.get("/Schemas", async (c) => {
  const docs = await schemaDocs(c);
  return scimJson(c, { schemas: [LIST_RESPONSE], totalResults: docs.length, itemsPerPage: docs.length, startIndex: 1, Resources: docs });
});

scimRouter.get("/Schemas/:id", async (c) => {
  const id = decodeURIComponent(c.req.param("id"));
  const doc = (await schemaDocs(c)).find((s) => s.id.toLowerCase() === id.toLowerCase());
  if (!doc) throw new ApiError("not_found", `No schema '${id}'. This endpoint has: ${[CORE_USER, ENTERPRISE_USER, TENANT_USER, CORE_GROUP].join(", ")}.`);
  return scimJson(c, doc);
});
