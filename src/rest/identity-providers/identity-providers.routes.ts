/**
 * Route contracts for /v1/identity-providers: paths, methods, request and response schemas, summaries.
 * They make the OpenAPI document; the handlers that answer them are in ./identity-providers.handlers.ts.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { bodyErrorResponses, errorResponses, jsonBodyOf, jsonContent, problemResponse } from "../openapi";
import { pageOf, WHOLE_LIST } from "../../http/paging";
import { IdempotencyKeyHeader, idempotencyResponses, idempotent } from "../idempotency";

export const IdentityProviderSchema = z
  .object({ id: z.string(), name: z.string(), prefix: z.string(), enabled: z.boolean(), userCount: z.number().int().optional(), createdAt: z.string(), updatedAt: z.string() })
  .openapi("IdentityProvider");

const name = z.string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") }).trim().min(1, "must not be empty").max(100);
const prefix = z
  .string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") })
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, "must be 1-32 lowercase letters, digits or inner hyphens, e.g. okta or entra-emea");
const CreateSchema = z
  .strictObject({ name: name.openapi({ example: "Okta" }), prefix: prefix.openapi({ example: "okta" }), enabled: z.boolean().optional() })
  .openapi("IdentityProviderCreate");
const PatchSchema = z.strictObject({ name: name.optional(), prefix: prefix.optional(), enabled: z.boolean().optional() }).openapi("IdentityProviderPatch");

const tags = ["Identity providers"];
const security = [{ bearerAuth: [] }];
const IdParam = z.object({ id: z.string().max(64) });

export const list = createRoute({
  method: "get",
  path: "/v1/identity-providers",
  tags,
  security,
  summary: "List identity providers",
  description: WHOLE_LIST + "a tenant's identity providers are a short, admin-made list.",
  responses: { 200: jsonContent(pageOf(IdentityProviderSchema), "By name."), ...errorResponses },
});

export const create = createRoute({
  method: "post",
  path: "/v1/identity-providers",
  tags,
  security,
  summary: "Add an identity provider",
  request: { headers: IdempotencyKeyHeader, body: jsonBodyOf(CreateSchema) },
  middleware: [idempotent()],
  responses: { ...idempotencyResponses, 201: jsonContent(IdentityProviderSchema, "Created."), ...errorResponses, 409: problemResponse("Name or prefix taken."), ...bodyErrorResponses },
});

export const get = createRoute({
  method: "get",
  path: "/v1/identity-providers/{id}",
  tags,
  security,
  summary: "Get an identity provider with the number of users bound to it",
  request: { params: IdParam },
  responses: { 200: jsonContent(IdentityProviderSchema, "The identity provider."), ...errorResponses },
});

export const update = createRoute({
  method: "patch",
  path: "/v1/identity-providers/{id}",
  tags,
  security,
  summary: "Rename, re-prefix, enable or disable an identity provider",
  description: "Disabling keeps existing bindings but refuses new ones.",
  request: { params: IdParam, body: jsonBodyOf(PatchSchema) },
  responses: { 200: jsonContent(IdentityProviderSchema, "Updated."), ...errorResponses, 409: problemResponse("Name or prefix taken."), ...bodyErrorResponses },
});

export const remove = createRoute({
  method: "delete",
  path: "/v1/identity-providers/{id}",
  tags,
  security,
  summary: "Remove an identity provider",
  description: "409 while users are bound to it, unless `unbind=true` (their binding is cleared, each with a user.updated event).",
  request: { params: IdParam, query: z.object({ unbind: z.enum(["true", "false"]).optional() }) },
  responses: { 204: { description: "Removed." }, ...errorResponses, 409: problemResponse("Users are bound to it.") },
});
