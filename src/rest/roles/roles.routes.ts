/**
 * Route contracts for /v1/roles: paths, methods, request and response schemas, summaries.
 * They make the OpenAPI document; the handlers that answer them are in ./roles.handlers.ts.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { bodyErrorResponses, errorResponses, jsonBodyOf, jsonContent, problemResponse } from "../openapi";
import { pageOf, WHOLE_LIST } from "../../http/paging";
import { IdempotencyKeyHeader, idempotencyResponses, idempotent } from "../idempotency";

const permission = z.string().regex(/^[A-Za-z][A-Za-z0-9:._-]{0,99}$/, "must be a permission name such as users:read (letters, digits, : . _ -)");

export const RoleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    weight: z.number().int(),
    permissions: z.array(z.string()),
    userCount: z.number().int().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Role");

const name = z.string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") }).trim().min(1, "must not be empty").max(100);
const RoleCreateSchema = z
  .strictObject({
    name: name.openapi({ example: "Compliance Officer" }),
    weight: z.number().int().min(0).max(1_000_000).optional().openapi({ description: "Higher is more privileged; default 0." }),
    permissions: z.array(permission).max(200).optional().openapi({ example: ["users:read", "campaigns:manage"] }),
  })
  .openapi("RoleCreate");
const RolePatchSchema = z
  .strictObject({ name: name.optional(), weight: z.number().int().min(0).max(1_000_000).optional(), permissions: z.array(permission).max(200).optional() })
  .openapi("RolePatch");

const tags = ["Roles"];
const security = [{ bearerAuth: [] }];
const IdParam = z.object({ id: z.string().max(64) });

export const list = createRoute({
  method: "get",
  path: "/v1/roles",
  tags,
  security,
  summary: "List roles",
  description: WHOLE_LIST + "a tenant's roles are a short, admin-made list.",
  responses: { 200: jsonContent(pageOf(RoleSchema), "Roles by descending weight, then name."), ...errorResponses },
});

export const create = createRoute({
  method: "post",
  path: "/v1/roles",
  tags,
  security,
  summary: "Create a role",
  request: { headers: IdempotencyKeyHeader, body: jsonBodyOf(RoleCreateSchema) },
  middleware: [idempotent()],
  responses: { ...idempotencyResponses, 201: jsonContent(RoleSchema, "Created."), ...errorResponses, 409: problemResponse("The name is taken."), ...bodyErrorResponses },
});

export const get = createRoute({
  method: "get",
  path: "/v1/roles/{id}",
  tags,
  security,
  summary: "Get a role with the number of users holding it",
  request: { params: IdParam },
  responses: { 200: jsonContent(RoleSchema, "The role."), ...errorResponses },
});

export const update = createRoute({
  method: "patch",
  path: "/v1/roles/{id}",
  tags,
  security,
  summary: "Rename a role or change its weight or permissions",
  description: "Users keep their role by id, so a rename shows on them at once.",
  request: { params: IdParam, body: jsonBodyOf(RolePatchSchema) },
  responses: { 200: jsonContent(RoleSchema, "The updated role."), ...errorResponses, 409: problemResponse("The name is taken."), ...bodyErrorResponses },
});

export const remove = createRoute({
  method: "delete",
  path: "/v1/roles/{id}",
  tags,
  security,
  summary: "Delete a role",
  description:
    "409 while users hold the role, unless `reassignTo` names another role's id (its holders move there) or is `none` " +
    "(its holders are left without a role). Each moved user gets a new version and a user.updated event.",
  request: { params: IdParam, query: z.object({ reassignTo: z.string().max(64).optional() }) },
  responses: { 204: { description: "Deleted." }, ...errorResponses, 409: problemResponse("Users still hold the role.") },
});
