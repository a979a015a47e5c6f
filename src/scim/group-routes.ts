/**
 * /scim/v2/Groups: translation between SCIM requests and the group operations in groups.ts.
 * Members are loaded only when the response shows them (Entra always sends excludedAttributes=members).
 */
import { and, count, eq, isNull, sql, type SQL } from "drizzle-orm";
import { Hono, type Context } from "hono";
import { collections } from "../db/schema";
import type { AppEnv } from "../env";
import { FilterCompiler } from "../filter/compile";
import { parseScimFilter } from "../filter/parse";
import { ApiError } from "../http/errors";
import { matches, parseETagList } from "../http/etag";
import { deleteCollection, type CollectionRow } from "../memberships/collections";
import { etagOf } from "../users/model";
import { groupFilterMap } from "./filter-maps";
import { createGroup, getGroupRow, groupLocation, groupVersion, loadMembers, planFromPatch, planFromResource, toScimGroup, writeGroup, type ScimMember } from "./groups";
import { baseUrlOf, listQueryOf, project, projectionOf, query, scimJson, searchQueryOf, type Projection } from "./http";
import { pageBounds, sortOrder, type ListParams } from "./list-query";
import { parsePatchBody } from "./patch-parse";
import { CORE_GROUP, LIST_RESPONSE } from "./schema";
import { coreContext } from "./user-ops";
import type { Json } from "./users";

export const groupRoutes = new Hono<AppEnv>();


/** Whether a response shaped by `projection` shows members; if not, they are never read. */
export function wantsMembers(projection: Projection): boolean {
  const isMembers = (path: string) => {
    const bare = path.toLowerCase().startsWith(`${CORE_GROUP.toLowerCase()}:`) ? path.slice(CORE_GROUP.length + 1) : path;
    const top = bare.split(".")[0]!.toLowerCase();
    return top === "members";
  };
  if (projection.attributes) return projection.attributes.some(isMembers);
  if (projection.excludedAttributes) return !projection.excludedAttributes.some((p) => isMembers(p) && !p.includes("."));
  return true;
}

/** `members`, when the caller already read them (alongside the row, in the same round trip). */
async function groupResponse(c: Context<AppEnv>, row: CollectionRow, projection: Projection, status = 200, preloaded?: Map<string, ScimMember[]>): Promise<Response> {
  const base = baseUrlOf(c);
  const members = wantsMembers(projection) ? (preloaded ?? (await loadMembers(coreContext(c), [row.id], base))).get(row.id) : undefined;
  const headers: Record<string, string> = { ETag: etagOf(groupVersion(row)) };
  if (status === 201) headers.Location = groupLocation(base, row.id);
  return scimJson(c, project(toScimGroup(row, base, members), projection), status, headers);
}

function ifMatchVersion(c: Context<AppEnv>, row: CollectionRow): number | undefined {
  const condition = parseETagList(c.req.header("If-Match"));
  if (!condition) return undefined;
  if (!matches(condition, groupVersion(row))) {
    throw new ApiError("precondition_failed", `If-Match does not match the group's current version ${etagOf(groupVersion(row))}. GET the group again and retry.`);
  }
  return groupVersion(row);
}

async function bodyOf(c: Context<AppEnv>): Promise<unknown> {
  return c.req.bodyCache.json ? await c.req.bodyCache.json : undefined;
}

// ---- list / search ----

async function listGroups(c: Context<AppEnv>, params: ListParams): Promise<Response> {
  const ctx = coreContext(c);
  const compiler = new FilterCompiler(groupFilterMap());
  const conditions: SQL[] = [eq(collections.tenantId, ctx.tenantId), eq(collections.kind, "group"), isNull(collections.deletedAt)];
  if (params.filter !== undefined) conditions.push(compiler.compile(parseScimFilter(params.filter)));
  const { startIndex, limit } = pageBounds(params);
  const order = sortOrder(compiler, params, collections.id);
  const where = and(...conditions);
  const page = ctx.db.select({ rowid: sql`rowid` }).from(collections).where(where).orderBy(...order).limit(limit).offset(startIndex - 1);
  const [rows, total] = await ctx.db.batch([
    ctx.db.select().from(collections).where(sql`rowid IN ${page}`).orderBy(...order),
    ctx.db.select({ n: count() }).from(collections).where(where),
  ]);
  const base = baseUrlOf(c);
  const shown = limit === 0 ? [] : rows;
  // One query for the whole page's members, and none when the response does not show them.
  const members = wantsMembers(params.projection) ? await loadMembers(ctx, shown.map((r) => r.id), base) : undefined;
  const resources = shown.map((row) => project(toScimGroup(row, base, members?.get(row.id)), params.projection));
  return scimJson(c, { schemas: [LIST_RESPONSE], totalResults: total[0]?.n ?? 0, itemsPerPage: resources.length, startIndex, Resources: resources });
}

groupRoutes.get("/Groups", (c) => listGroups(c, listQueryOf(c)));


groupRoutes.post("/Groups/.search", async (c) => {
  const body = (await bodyOf(c)) as Json | undefined;
  return listGroups(c, searchQueryOf(body));
});

// ---- single groups ----

groupRoutes.post("/Groups", async (c) => {
  const plan = planFromResource(await bodyOf(c), true);
  const row = await createGroup(coreContext(c), plan);
  return groupResponse(c, row, projectionOf(c), 201);
});

groupRoutes.get("/Groups/:id", async (c) => {
  const ctx = coreContext(c);
  const id = c.req.param("id");
  const projection = projectionOf(c);
  // The row and its members in one round trip; an unknown id is still a 404 from getGroupRow.
  const [row, members] = await Promise.all([getGroupRow(ctx, id), wantsMembers(projection) ? loadMembers(ctx, [id], baseUrlOf(c)) : undefined]);
  const condition = parseETagList(c.req.header("If-None-Match"));
  if (condition && matches(condition, groupVersion(row))) return c.body(null, 304, { ETag: etagOf(groupVersion(row)) });
  return groupResponse(c, row, projection, 200, members);
});

groupRoutes.put("/Groups/:id", async (c) => {
  const plan = planFromResource(await bodyOf(c), false);
  const row = await writeGroup(coreContext(c), c.req.param("id"), () => plan, (r) => ifMatchVersion(c, r));
  return groupResponse(c, row, projectionOf(c));
});

groupRoutes.patch("/Groups/:id", async (c) => {
  const ops = parsePatchBody(await bodyOf(c));
  const id = c.req.param("id");
  const row = await writeGroup(coreContext(c), id, () => planFromPatch(ops, id), (r) => ifMatchVersion(c, r));
  // RFC 7644 §3.5.2: 204 (what Entra wants for groups) unless the client asked for attributes.
  if (query(c, "attributes") !== undefined) return groupResponse(c, row, projectionOf(c));
  return c.body(null, 204, { ETag: etagOf(groupVersion(row)) });
});

groupRoutes.delete("/Groups/:id", async (c) => {
  const ctx = coreContext(c);
  const id = c.req.param("id");
  ifMatchVersion(c, await getGroupRow(ctx, id));
  await deleteCollection(ctx, "group", id);
  return c.body(null, 204);
});
