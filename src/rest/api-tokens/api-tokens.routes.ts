/**
 * Route contracts for /v1/api-tokens: paths, methods, request and response schemas, summaries.
 * They make the OpenAPI document; the handlers that answer them are in ./api-tokens.handlers.ts.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { SCOPES } from "../../auth/tokens";
import { bodyErrorResponses, errorResponses, jsonBodyOf, jsonContent } from "../openapi";
import { pageOf } from "../../http/paging";
import { intQuery } from "../../http/query";
import { IdempotencyKeyHeader, idempotencyResponses, idempotent, SECRET_REPLAY_NOTE } from "../idempotency";

export const ApiTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    prefix: z.string().openapi({ description: "The first characters of the secret, to tell tokens apart.", example: "prov_3kT9aZ" }),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable().openapi({ description: "Updated at most once a minute." }),
    expiresAt: z.string().nullable(),
    disabledAt: z.string().nullable(),
    active: z.boolean(),
  })
  .openapi("ApiToken");

export const CreatedTokenSchema = z
  .object({ token: z.string().openapi({ description: "The secret. Shown only in this response; store it now." }), apiToken: ApiTokenSchema })
  .openapi("CreatedApiToken");

export const TokenCreateSchema = z
  .strictObject({
    name: z.string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") }).trim().min(1, "must not be empty").max(100),
    scopes: z
      .array(z.enum(SCOPES, { error: `must be one of: ${SCOPES.join(", ")}` }))
      .min(1, "must list at least one scope")
      .max(SCOPES.length, `must list each scope at most once (there are ${SCOPES.length})`)
      .refine((list) => new Set(list).size === list.length, "must list each scope at most once")
      .openapi({ example: ["users:read", "users:write"] }),
    expiresAt: z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time in the future" }).nullable().optional(),
  })
  .openapi("ApiTokenCreate");

const tags = ["API tokens"];
const security = [{ bearerAuth: [] }];
const IdParam = z.object({ id: z.string().max(64) });

export const create = createRoute({
  method: "post",
  path: "/v1/api-tokens",
  tags,
  security,
  summary: "Create an API token",
  description: `Scopes: ${SCOPES.join(", ")}. Tokens never expire unless \`expiresAt\` is set. The secret is shown once.` + SECRET_REPLAY_NOTE,
  request: { headers: IdempotencyKeyHeader, body: jsonBodyOf(TokenCreateSchema) },
  middleware: [idempotent({ secret: "the API token's secret" })],
  responses: { ...idempotencyResponses, 201: jsonContent(CreatedTokenSchema, "Created; `token` is the secret."), ...errorResponses, ...bodyErrorResponses },
});

export const list = createRoute({
  method: "get",
  path: "/v1/api-tokens",
  tags,
  security,
  summary: "List API tokens (never the secrets)",
  description: "Oldest first, cursor paged (disabled tokens are kept, so the list only grows).",
  request: {
    query: z.object({
      limit: intQuery(1, 1000).optional().openapi({ description: "Page size, 1-1000 (default 100)." }),
      cursor: z.string().max(512).optional().openapi({ description: "`pagination.nextCursor` of the previous page." }),
    }),
  },
  responses: { 200: jsonContent(pageOf(ApiTokenSchema), "A page of the tenant's tokens, oldest first."), ...errorResponses },
});

export const get = createRoute({
  method: "get",
  path: "/v1/api-tokens/{id}",
  tags,
  security,
  summary: "Get an API token",
  request: { params: IdParam },
  responses: { 200: jsonContent(ApiTokenSchema, "The token (without its secret)."), ...errorResponses },
});

export const disable = createRoute({
  method: "delete",
  path: "/v1/api-tokens/{id}",
  tags,
  security,
  summary: "Disable an API token",
  description: "Takes effect on the very next request. The token stays listed with `disabledAt`.",
  request: { params: IdParam },
  responses: { 200: jsonContent(ApiTokenSchema, "The disabled token."), ...errorResponses },
});
