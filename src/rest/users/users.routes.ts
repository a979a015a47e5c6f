/**
 * Route contracts for /v1/users: paths, methods, request and response schemas, summaries.
 * They make the OpenAPI document; the handlers that answer them are in ./users.handlers.ts.
 */
import { PaginationSchema } from "../../http/paging";
import { intQuery } from "../../http/query";
import { createRoute, z } from "@hono/zod-openapi";
import { SORT_FIELDS } from "../../users/queries";
import { bodyErrorResponses, errorResponses, jsonBodyOf, jsonContent, problemResponse } from "../openapi";
import { IdempotencyKeyHeader, idempotencyResponses, idempotent } from "../idempotency";
import { UserCreateSchema, UserPatchSchema, UserSchema } from "./users.schemas";

const UserListSchema = z
  .object({
    data: z.array(UserSchema),
    pagination: PaginationSchema.extend({
      page: z.number().int().optional(),
      totalCount: z.number().int().optional().openapi({ description: "Only with page/pageSize paging." }),
    }),
  })
  .openapi("UserList");

const IdParam = z.object({ id: z.string().max(64).openapi({ param: { name: "id", in: "path" } }) });

const boolParam = z.enum(["true", "false"]).transform((v) => v === "true");

const ListQuery = z.object({
  limit: intQuery(1, 1000).optional().openapi({ description: "Page size, 1-1000 (default 100)." }),
  cursor: z.string().max(512).optional(),
  page: intQuery(1, 1_000_000).optional().openapi({ description: "Offset paging (1-based); prefer cursors for large tenants." }),
  pageSize: intQuery(1, 1000).optional(),
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
export const SearchBody = z
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

const EraseQuery = z.object({ erase: boolParam.optional() });

const tag = ["Users"];
const security = [{ bearerAuth: [] }];

export const create = createRoute({
  method: "post",
  path: "/v1/users",
  tags: tag,
  security,
  summary: "Create a user",
  description:
    "Required: firstName, lastName, email, externalId, and every attribute the tenant marks required. " +
    "Send `Idempotency-Key` to make retries safe: the same key and body replay the first response.",
  request: {
    headers: IdempotencyKeyHeader,
    body: jsonBodyOf(UserCreateSchema),
  },
  middleware: [idempotent()],
  responses: {
    ...idempotencyResponses,
    201: jsonContent(UserSchema, "Created. `Location` points at the user."),
    ...errorResponses,
    409: problemResponse("email or externalId already belongs to another user (see `existingUserId`)."),
    ...bodyErrorResponses,
  },
});

export const list = createRoute({
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
});

export const search = createRoute({
  method: "post",
  path: "/v1/users/search",
  tags: tag,
  security,
  summary: "Search users (list parameters in a JSON body)",
  description:
    "Takes the parameters of GET /v1/users as JSON, so that long filters (up to 4,000 characters) fit. Needs users:read. " +
    "Paging: the next page is this same POST with `cursor` set to `pagination.nextCursor` in the body; there is no `Link` header, " +
    "because a link can only name a GET and the body's filter may not fit in a URL.",
  request: { body: jsonBodyOf(SearchBody) },
  responses: { 200: jsonContent(UserListSchema, "A page of users."), ...errorResponses, ...bodyErrorResponses },
});

export const get = createRoute({
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
});

export const update = createRoute({
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
});

export const remove = createRoute({
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
});
