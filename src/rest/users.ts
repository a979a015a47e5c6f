/** REST adapter for users (`/v1/users`): shapes, headers and status codes; the rules live in users/. */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { requireScope } from "../auth/middleware";
import type { AppEnv } from "../env";
import { parsedJsonBody } from "../http/body";
import { matches, parseETagList } from "../http/etag";
import { validateWith } from "../http/validation";
import { etagOf, type User } from "../users/model";
import { compileWithDefinitionsIfNeeded } from "../users/filter-attributes";
import { listUsers, SORT_FIELDS } from "../users/queries";
import { compileRestFilter, parseSort } from "./user-filter";
import { coreContextOf } from "../core/from-request";
import { createUser, deactivateUser, eraseUser, readForWrite, readUserWith, updateUser } from "../users/service";
import { demandOneScope } from "../auth/middleware";
import { bodyErrorResponses, createRouter, errorResponses, jsonBodyOf, jsonContent, problemResponse } from "./openapi";
import { checkIdempotencyKey, findReplay, fingerprint, recordResponse, replayFrom, replayQuery, replayResponse } from "./idempotency";
import type { OutboxRef } from "../events/dispatch";
import { KINDS, type KindInfo, type MembershipRequest } from "../memberships/kinds";
import { provisioningQuery, toProvisioning, type Provisioning } from "../memberships/provisioning";
import { toUserMemberships, userMembershipsQuery, type UserMemberships } from "../memberships/collections";
import { UserCreateSchema, UserPatchSchema, UserSchema } from "./user-schemas";

// The user schemas are built from the field table in ./user-schemas; re-exported for other routers.
export { UserCreateSchema, UserPatchSchema, UserSchema };

const UserListSchema = z
  .object({
    data: z.array(UserSchema),
    pagination: z.object({
      limit: z.number().int(),
      nextCursor: z.string().nullable().openapi({ description: "Pass as `cursor` for the next page; null on the last page." }),
      page: z.number().int().optional(),
      totalCount: z.number().int().optional().openapi({ description: "Only with page/pageSize paging." }),
    }),
  })
  .openapi("UserList");

const IdParam = z.object({ id: z.string().max(64).openapi({ param: { name: "id", in: "path" } }) });

const boolParam = z.enum(["true", "false"]).transform((v) => v === "true");

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).optional().openapi({ description: "Page size, 1-1000 (default 100)." }),
  cursor: z.string().max(512).optional(),
  page: z.coerce.number().int().min(1).max(1_000_000).optional().openapi({ description: "Offset paging (1-based); prefer cursors for large tenants." }),
  pageSize: z.coerce.number().int().min(1).max(1000).optional(),
  email: z.string().max(254).optional().openapi({ description: "Exact email, ignoring case." }),
  externalId: z.string().max(255).optional(),
  active: boolParam.optional(),
  updatedSince: z.iso.datetime({ offset: true }).optional().openapi({ description: "ISO 8601; lists users changed at or after it, oldest change first." }),
  q: z.string().min(1).max(100).optional().openapi({ description: "Case-insensitive prefix of first, last or display name, or of the email." }),
  filter: z.string().max(1000).optional().openapi({
    description: 'SCIM filter syntax over REST attribute names, e.g. `department eq "Sales" and attributes.costCenter sw "CC-"`.',
  }),
  sort: z.string().max(20).optional().openapi({ description: `One of ${SORT_FIELDS.join(", ")}; prefix with - for descending.` }),
});

/** The same parameters as a JSON body, for filters too long for a URL. */
const SearchBody = z
  .strictObject({
    filter: z.string().max(4000).optional(),
    sort: z.string().max(20).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    cursor: z.string().max(512).optional(),
    page: z.number().int().min(1).max(1_000_000).optional(),
    pageSize: z.number().int().min(1).max(1000).optional(),
    email: z.string().max(254).optional(),
    externalId: z.string().max(255).optional(),
    active: z.boolean().optional(),
    updatedSince: z.iso.datetime({ offset: true }).optional(),
    q: z.string().min(1).max(100).optional(),
  })
  .openapi("UserSearch");

type ListParams = Omit<z.output<typeof SearchBody>, "active"> & { active?: boolean };

const EraseQuery = z.object({ erase: boolParam.optional() });

const tag = ["Users"];
const security = [{ bearerAuth: [] }];

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

export const usersRouter = createRouter();

/** Routes that check scopes of their own, because the platform's sign-in (`auth`) calls them too. */
const SELF_SCOPED = /^\/v1\/users\/[^/]+\/(password\/verify|activity|devices\/[^/]+\/seen)$/;

// Hono's "/x/*" also matches "/x", so this one guard covers the collection and its items.
usersRouter.use("/v1/users/*", async (c, next) => {
  if (c.req.method === "POST" && SELF_SCOPED.test(c.req.path)) return next();
  const isRead = c.req.method === "GET" || (c.req.method === "POST" && c.req.path === "/v1/users/search");
  return requireScope(isRead ? "users:read" : "users:write")(c, next);
});

usersRouter.openapi(
  createRoute({
    method: "post",
    path: "/v1/users",
    tags: tag,
    security,
    summary: "Create a user",
    description:
      "Required: firstName, lastName, email, externalId, and every attribute the tenant marks required. " +
      "Send `Idempotency-Key` to make retries safe: the same key and body replay the first response.",
    request: {
      headers: z.object({ "idempotency-key": z.string().optional() }),
      body: jsonBodyOf(UserCreateSchema),
    },
    responses: {
      201: jsonContent(UserSchema, "Created. `Location` points at the user."),
      ...errorResponses,
      409: problemResponse("email or externalId already belongs to another user (see `existingUserId`)."),
      422: problemResponse("Idempotency-Key reused with a different body."),
      ...bodyErrorResponses,
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const ctx = coreContext(c);
    const rawKey = c.req.header("Idempotency-Key");
    const key = rawKey === undefined ? undefined : checkIdempotencyKey(rawKey);
    const hash = key ? await fingerprint("POST", "/v1/users", input) : "";
    const { fields, memberships } = splitMemberships(input);
    // One read batch: the token, the rules' reference data, the manager, and the key's record.
    const reads = await readForWrite(ctx, { managerIds: [fields.managerId], extra: key ? [replayQuery(ctx.db, ctx.tenantId, key)] : [] });
    if (key) {
      const stored = replayFrom(reads.extra[0] as Parameters<typeof replayFrom>[0], hash, ctx.clock.now());
      // A replay is the stored bytes of an earlier typed response, so the typed-response check is moot.
      if (stored) return replayResponse(stored) as never;
    }
    let user: User;
    try {
      user = await createUser(ctx, fields, {
        reads,
        memberships,
        alsoWrite: key
          ? (u) => recordResponse(ctx.db, ctx.tenantId, key, hash, { status: 201, body: JSON.stringify({ ...u, provisioning: PENDING }), location: `/v1/users/${u.id}` }, ctx.clock.now())
          : undefined,
      });
    } catch (err) {
      // A concurrent request with the same key may have won the race (our insert then fails on the
      // key, or on the email it just took): if it stored a response, that is the answer.
      if (key) {
        const stored = await findReplay(ctx.db, ctx.tenantId, key, hash, ctx.clock.now());
        if (stored) return replayResponse(stored) as never;
      }
      throw err;
    }
    c.header("Location", `/v1/users/${user.id}`);
    return userResponse(c, { ...user, provisioning: PENDING }, 201);
  },
);

usersRouter.openapi(
  createRoute({
    method: "get",
    path: "/v1/users",
    tags: tag,
    security,
    summary: "List users",
    description:
      "Keyset (cursor) paging in creation order; with `updatedSince`, in order of last change. " +
      "`page`/`pageSize` give offset paging with a total count, for clients that need it.",
    request: { query: ListQuery },
    responses: { 200: jsonContent(UserListSchema, "A page of users."), ...errorResponses },
  }),
  async (c) => c.json(await runList(c, c.req.valid("query"), 1000), 200),
);

usersRouter.openapi(
  createRoute({
    method: "post",
    path: "/v1/users/search",
    tags: tag,
    security,
    summary: "Search users (list parameters in a JSON body)",
    description: "Takes the parameters of GET /v1/users as JSON, so that long filters (up to 4,000 characters) fit. Needs users:read.",
    request: { body: jsonBodyOf(SearchBody) },
    responses: { 200: jsonContent(UserListSchema, "A page of users."), ...errorResponses, ...bodyErrorResponses },
  }),
  async (c) => c.json(await runList(c, c.req.valid("json"), 4000), 200),
);

async function runList(c: Context<AppEnv>, q: ListParams, maxFilterLength: number) {
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
  return {
    data: page.data,
    pagination: {
      limit,
      nextCursor: page.nextCursor,
      ...(page.totalCount !== undefined ? { page: q.page ?? 1, totalCount: page.totalCount } : {}),
    },
  };
}

usersRouter.openapi(
  createRoute({
    method: "get",
    path: "/v1/users/{id}",
    tags: tag,
    security,
    summary: "Get a user",
    description: "Answers 304 when `If-None-Match` carries the current ETag, 410 for an erased user.",
    request: { params: IdParam, headers: z.object({ "if-none-match": z.string().optional() }) },
    responses: {
      200: jsonContent(UserSchema, "The user."),
      304: { description: "Not modified." },
      ...errorResponses,
      410: problemResponse("The user was erased; only the id remains."),
    },
  }),
  async (c) => {
    const ctx = coreContext(c);
    const id = c.req.valid("param").id;
    // One D1 round trip for everything this response shows.
    const [user, provisioningRows, membershipRows] = await readUserWith(ctx, id, [provisioningQuery(ctx, id), userMembershipsQuery(ctx, id)]);
    const condition = parseETagList(c.req.header("If-None-Match"));
    if (condition && matches(condition, user.version)) {
      return c.body(null, 304, { ETag: etagOf(user.version) });
    }
    return userResponse(c, { ...user, provisioning: toProvisioning(provisioningRows[0]), memberships: toUserMemberships(membershipRows) }, 200);
  },
);

usersRouter.openapi(
  createRoute({
    method: "patch",
    path: "/v1/users/{id}",
    tags: tag,
    security,
    summary: "Update a user",
    description:
      "JSON merge patch. `null` clears an optional field; required fields cannot be cleared. " +
      "`active: false` deactivates, `active: true` reactivates. `If-Match` makes the update conditional (412 on mismatch).",
    request: {
      params: IdParam,
      headers: z.object({ "if-match": z.string().optional() }),
      body: {
        required: true,
        content: {
          "application/json": { schema: UserPatchSchema },
          "application/merge-patch+json": { schema: UserPatchSchema },
        },
      },
    },
    responses: {
      200: jsonContent(UserSchema, "The updated user."),
      ...errorResponses,
      409: problemResponse("email or externalId already belongs to another user."),
      410: problemResponse("The user was erased."),
      412: problemResponse("If-Match does not match the current version."),
      ...bodyErrorResponses,
    },
  }),
  async (c) => {
    const committed: OutboxRef[] = [];
    const ctx = coreContext(c, committed);
    const { id } = c.req.valid("param");
    const { fields, memberships } = splitMemberships(validateWith(UserPatchSchema, await parsedJsonBody(c)));
    const reads = await readForWrite(ctx, { userId: id, managerIds: [fields.managerId], extra: [provisioningQuery(ctx, id)] });
    const user = await updateUser(ctx, id, fields, { ifMatch: parseETagList(c.req.header("If-Match")), memberships, reads });
    // A change that asked for memberships is pending; otherwise report the standing status.
    const provisioning = memberships && committed.length > 0 ? PENDING : toProvisioning((reads.extra[0] as Parameters<typeof toProvisioning>[0][])[0]);
    return userResponse(c, { ...user, provisioning }, 200);
  },
);

usersRouter.openapi(
  createRoute({
    method: "delete",
    path: "/v1/users/{id}",
    tags: tag,
    security,
    summary: "Deactivate (or erase) a user",
    description:
      "Deactivates: the user stays readable with `active: false` and can be reactivated with PATCH `{\"active\": true}`. " +
      "With `?erase=true` (admin scope) the personal data is erased for good and only the id remains.",
    request: { params: IdParam, query: EraseQuery, headers: z.object({ "if-match": z.string().optional() }) },
    responses: {
      200: jsonContent(z.union([UserSchema, z.object({ id: z.string(), erasedAt: z.string() })]), "The deactivated user, or the erasure receipt."),
      ...errorResponses,
      410: problemResponse("The user was already erased."),
      412: problemResponse("If-Match does not match the current version."),
    },
  }),
  async (c) => {
    const ctx = coreContext(c);
    const { id } = c.req.valid("param");
    const { erase } = c.req.valid("query");
    const ifMatch = parseETagList(c.req.header("If-Match"));
    if (erase) {
      demandOneScope(c, "admin", "Erasing a user needs a token with the 'admin' scope.");
      return c.json(await eraseUser(ctx, id, { ifMatch }), 200);
    }
    return userResponse(c, await deactivateUser(ctx, id, { ifMatch }), 200);
  },
);
