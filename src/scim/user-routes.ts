/**
 * /scim/v2/Users: list and .search (filter, sortBy, startIndex paging in one round trip) and the
 * single-user operations (create, read, replace, patch, delete). Translation only: the user
 * operations are in user-ops.ts and the users core; discovery and groups have their own files.
 */
import { and, count, eq, gt, isNull, sql, type SQL } from "drizzle-orm";
import { Hono, type Context } from "hono";
import { users } from "../db/schema";
import type { AppEnv } from "../env";
import { FilterCompiler } from "../filter/compile";
import { parseScimFilter } from "../filter/parse";
import { matches, parseETagList } from "../http/etag";
import { loadAttributeSet, type AttributeSet } from "../users/attributes";
import { compileWithDefinitionsIfNeeded } from "../users/filter-attributes";
import { etagOf, toUser, type User } from "../users/model";
import { loadRoles } from "../users/references";
import { userFilterMap } from "./filter-maps";
import { baseUrlOf, listQueryOf, project, projectionOf, scimJson, searchQueryOf, type Projection } from "./http";
import { pageBounds, sortOrder, type ListParams } from "./list-query";
import { anchorFor, cachedCount, rememberCount, rememberPageEnd } from "./paging";
import { LIST_RESPONSE } from "./schema";
import { coreContext, scimCreateUser, scimDeleteUser, scimPatchUser, scimReads, scimReadUser, scimReplaceUser } from "./user-ops";
import { foldersByUser, userFoldersQuery, type FolderRef } from "./user-folders";
import { toScimUser, type Json } from "./users";

export const userRoutes = new Hono<AppEnv>();

function userResponse(c: Context<AppEnv>, { user, folders }: { user: User; folders: FolderRef[] }, attrs: AttributeSet, projection: Projection, status = 200): Response {
  const base = baseUrlOf(c);
  const headers: Record<string, string> = { ETag: etagOf(user.version) };
  if (status === 201) headers.Location = `${base}/Users/${user.id}`;
  return scimJson(c, project(toScimUser(user, base, attrs, folders), projection), status, headers);
}


/** The filter and sort order of a list, compiled against the tenant's (or only the built-in) attributes. */
function compileListQuery(attrs: AttributeSet, params: ListParams): { filter: SQL | undefined; order: SQL[] } {
  const compiler = new FilterCompiler(userFilterMap(attrs));
  const filter = params.filter === undefined ? undefined : compiler.compile(parseScimFilter(params.filter));
  const order = sortOrder(compiler, params, users.id);
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
  const { startIndex, limit } = pageBounds(params);
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
  // The page's folders, by the same page subquery: still one round trip.
  const foldersQuery = userFoldersQuery(ctx, sql`(SELECT ${users.id} FROM ${users} WHERE rowid IN ${page})`);
  const [rows, roles, counted, attrs, folderRows] = await Promise.all([
    rowsQuery.all(),
    loadRoles(ctx.db, ctx.tenantId),
    known === undefined ? ctx.db.select({ n: count() }).from(countSource).where(where).get() : Promise.resolve({ n: known }),
    definitions ?? loadAttributeSet(ctx.db, ctx.tenantId),
    limit === 0 ? Promise.resolve([]) : foldersQuery.all(),
  ]);
  const total = counted?.n ?? 0;
  if (hinted) {
    rememberCount(ctx.tenantId, total);
    const last = rows[rows.length - 1];
    if (last && rows.length === limit) rememberPageEnd(ctx.tenantId, startIndex + rows.length, last.id);
  }
  const base = baseUrlOf(c);
  const folders = foldersByUser(folderRows);
  const now = ctx.clock.now();
  const resources = limit === 0 ? [] : rows.map((row) => project(toScimUser(toUser(row, roles, now), base, attrs, folders.get(row.id)), params.projection));
  return scimJson(c, {
    schemas: [LIST_RESPONSE],
    totalResults: total,
    itemsPerPage: resources.length,
    startIndex,
    Resources: resources,
  });
}

userRoutes.get("/Users", (c) => listUsers(c, listQueryOf(c)));


userRoutes.post("/Users/.search", async (c) => {
  const body = (c.req.bodyCache.json ? await c.req.bodyCache.json : {}) as Json;
  return listUsers(c, searchQueryOf(body));
});

// Writes: one read batch (token, definitions, roles, providers, the user, named managers), then
// one write batch.
userRoutes.post("/Users", async (c) => {
  const ctx = coreContext(c);
  const body = c.req.bodyCache.json ? await c.req.bodyCache.json : undefined;
  const reads = await scimReads(ctx, undefined, body);
  const written = await scimCreateUser(ctx, reads, body);
  return userResponse(c, written, reads.lookups.attrs, projectionOf(c), 201);
});

userRoutes.get("/Users/:id", async (c) => {
  const ctx = coreContext(c);
  const { user, attrs, folders } = await scimReadUser(ctx, c.req.param("id"));
  const condition = parseETagList(c.req.header("If-None-Match"));
  if (condition && matches(condition, user.version)) return c.body(null, 304, { ETag: etagOf(user.version) });
  return userResponse(c, { user, folders }, attrs, projectionOf(c));
});

userRoutes.put("/Users/:id", async (c) => {
  const ctx = coreContext(c);
  const body = c.req.bodyCache.json ? await c.req.bodyCache.json : undefined;
  const reads = await scimReads(ctx, c.req.param("id"), body);
  const written = await scimReplaceUser(ctx, reads, c.req.param("id"), body, parseETagList(c.req.header("If-Match")));
  return userResponse(c, written, reads.lookups.attrs, projectionOf(c));
});

userRoutes.patch("/Users/:id", async (c) => {
  const ctx = coreContext(c);
  const body = c.req.bodyCache.json ? await c.req.bodyCache.json : undefined;
  const reads = await scimReads(ctx, c.req.param("id"), body);
  const written = await scimPatchUser(ctx, reads, baseUrlOf(c), c.req.param("id"), body, parseETagList(c.req.header("If-Match")));
  return userResponse(c, written, reads.lookups.attrs, projectionOf(c));
});

userRoutes.delete("/Users/:id", async (c) => {
  await scimDeleteUser(coreContext(c), c.req.param("id"), parseETagList(c.req.header("If-Match")));
  return c.body(null, 204);
});
