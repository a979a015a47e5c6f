/**
 * Handlers for /v1/users, one per route contract in ./users.routes.ts and typed by it
 * (RouteHandler<typeof route, AppEnv>): they translate shapes; the rules live in the core.
 */
import type { RouteHandler } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { demandOneScope } from "../../auth/middleware";
import { coreContextOf } from "../../core/from-request";
import type { AppEnv } from "../../env";
import type { OutboxRef } from "../../events/dispatch";
import { parsedJsonBody } from "../../http/body";
import { pagination } from "../../http/paging";
import { matches, parseETagList } from "../../http/etag";
import { validateWith } from "../../http/validation";
import { toUserMemberships, userMembershipsQuery, type UserMemberships } from "../../memberships/collections";
import { KINDS, type KindInfo, type MembershipRequest } from "../../memberships/kinds";
import { provisioningAfterWrite, provisioningQuery, toProvisioning, type Provisioning } from "../../memberships/provisioning";
import { compileWithDefinitionsIfNeeded } from "../../users/filter-attributes";
import { etagOf, type User } from "../../users/model";
import { listUsers } from "../../users/queries";
import { createUser, deactivateUser, eraseUser, readForWrite, readUserWith, updateUser } from "../../users/service";
import { respondInBatch } from "../idempotency";
import { compileRestFilter, parseSort } from "../user-filter";
import type * as routes from "./users.routes";
import { SearchBody } from "./users.routes";
import { UserCreateSchema, UserPatchSchema } from "./users.schemas";
import { userBodyHook } from "../user-body";

type ListParams = Omit<z.output<typeof SearchBody>, "active"> & { active?: boolean };

const coreContext = coreContextOf;

/** Splits the membership lists off a validated body: the user fields go to the core as before. */
function splitMemberships<T extends Record<string, unknown>>(input: T): { fields: Omit<T, KindInfo["userField"]>; memberships?: MembershipRequest } {
  const fields: Record<string, unknown> = { ...input };
  const memberships: MembershipRequest = {};
  for (const k of KINDS) {
    const ids = fields[k.userField];
    delete fields[k.userField];
    if (Array.isArray(ids)) memberships[k.kind] = ids as string[];
  }
  return { fields: fields as never, memberships: Object.keys(memberships).length > 0 ? memberships : undefined };
}

const PENDING: Pick<Provisioning, "status"> = { status: "pending" };

function userResponse<S extends 200 | 201 = 200>(c: Context<AppEnv>, user: User & { provisioning?: Pick<Provisioning, "status"> | null; memberships?: UserMemberships }, status?: S) {
  c.header("ETag", etagOf(user.version));
  return c.json(user, (status ?? 200) as S);
}

async function runList(c: Context<AppEnv>, q: ListParams, maxFilterLength: number, link: boolean) {
  const ctx = coreContext(c);
  const limit = q.pageSize ?? q.limit ?? 100;
  const where = q.filter === undefined ? undefined : await compileWithDefinitionsIfNeeded(ctx, (attrs) => compileRestFilter(q.filter!, attrs, maxFilterLength));
  const page = await listUsers(ctx, {
    email: q.email,
    externalId: q.externalId,
    active: q.active,
    updatedSince: q.updatedSince ? Date.parse(q.updatedSince) : undefined,
    q: q.q,
    where,
    sort: parseSort(q.sort),
    limit,
    cursor: q.cursor,
    page: q.page ?? (q.pageSize !== undefined ? 1 : undefined),
  });
  if (page.totalCount !== undefined) {
    // Offset paging: the next page is `page + 1`, there is no cursor.
    const pageNo = q.page ?? 1;
    const hasMore = pageNo * limit < page.totalCount;
    return { data: page.data, pagination: { ...pagination(c, { limit, hasMore, nextCursor: null, link, nextParam: ["page", String(pageNo + 1)] }), page: pageNo, totalCount: page.totalCount } };
  }
  return { data: page.data, pagination: pagination(c, { limit, hasMore: page.nextCursor !== null, nextCursor: page.nextCursor, link }) };
}

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => {
  const input = c.req.valid("json");
  const ctx = coreContext(c);
  const { fields, memberships } = splitMemberships(input);
  // Idempotency-Key is handled around this handler (../idempotency.ts, in the route contract); the
  // response is known before the write, so its record goes into the user's own write batch.
  const user = await createUser(ctx, fields, {
    memberships,
    alsoWrite: (u) => {
      respondInBatch(c, 201, { ...u, provisioning: PENDING }, { Location: `/v1/users/${u.id}`, ETag: etagOf(u.version) });
      return [];
    },
  });
  c.header("Location", `/v1/users/${user.id}`);
  return userResponse(c, { ...user, provisioning: PENDING }, 201);
};

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => c.json(await runList(c, c.req.valid("query"), 1000, true), 200);

export const search: RouteHandler<typeof routes.search, AppEnv> = async (c) => c.json(await runList(c, c.req.valid("json"), 4000, false), 200);

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => {
  const ctx = coreContext(c);
  const id = c.req.valid("param").id;
  // One D1 round trip for everything this response shows.
  const [user, provisioningRows, membershipRows] = await readUserWith(ctx, id, [provisioningQuery(ctx, id), userMembershipsQuery(ctx, id)]);
  const condition = parseETagList(c.req.header("If-None-Match"));
  if (condition && matches(condition, user.version)) {
    return c.body(null, 304, { ETag: etagOf(user.version) });
  }
  return userResponse(c, { ...user, provisioning: toProvisioning(provisioningRows[0]), memberships: toUserMemberships(membershipRows) }, 200);
};

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) => {
  const committed: OutboxRef[] = [];
  const ctx = coreContext(c, committed);
  const { id } = c.req.valid("param");
  const { fields, memberships } = splitMemberships(validateWith(UserPatchSchema, await parsedJsonBody(c)));
  const reads = await readForWrite(ctx, { userId: id, managerIds: [fields.managerId], extra: [provisioningQuery(ctx, id)] });
  const user = await updateUser(ctx, id, fields, { ifMatch: parseETagList(c.req.header("If-Match")), memberships, reads });
  return userResponse(c, { ...user, provisioning: provisioningAfterWrite(committed.map((e) => e.id), standingOf(reads), ctx.clock.now()) }, 200);
};

/** The provisioning row read with the write's reads (always the first extra query here). */
const standingOf = (reads: { extra: unknown[] }) => (reads.extra[0] as Parameters<typeof toProvisioning>[0][])[0];

export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  const committed: OutboxRef[] = [];
  const ctx = coreContext(c, committed);
  const { id } = c.req.valid("param");
  const { erase } = c.req.valid("query");
  const ifMatch = parseETagList(c.req.header("If-Match"));
  if (erase) {
    demandOneScope(c, "admin", "Erasing a user needs a token with the 'admin' scope.");
    return c.json(await eraseUser(ctx, id, { ifMatch }), 200);
  }
  const reads = await readForWrite(ctx, { userId: id, extra: [provisioningQuery(ctx, id)] });
  const user = await deactivateUser(ctx, id, { ifMatch, reads });
  return userResponse(c, { ...user, provisioning: provisioningAfterWrite(committed.map((e) => e.id), standingOf(reads), ctx.clock.now()) }, 200);
};

/** A create or PATCH body that fails its schema still gets the core's checks: one 400 with every problem. */
export const hooks = {
  create: userBodyHook(UserCreateSchema, (c, valid, schemaErrors) => createUser(coreContext(c), splitMemberships(valid).fields, { schemaErrors })),
  update: userBodyHook(UserPatchSchema, (c, valid, schemaErrors) => {
    const { id } = c.req.valid("param" as never) as { id: string };
    return updateUser(coreContext(c), id, splitMemberships(valid).fields, { schemaErrors, ifMatch: parseETagList(c.req.header("If-Match")) });
  }),
};
