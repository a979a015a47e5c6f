/** `/v1/api-tokens`: admins create, list and disable the tenant's API tokens. */
import { adminEvent } from "../audit/admin-events";
import { verifyPendingAuth } from "../core/request-db";
import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, eq } from "drizzle-orm";
import { requireScope } from "../auth/middleware";
import { displayPrefix, generateToken, hashToken, SCOPES, type Scope } from "../auth/tokens";
import { apiTokens } from "../db/schema";
import type { Db } from "../env";
import { ApiError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import { bodyErrorResponses, createRouter, errorResponses, jsonBodyOf, jsonContent } from "./openapi";

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

const CreatedTokenSchema = z
  .object({ token: z.string().openapi({ description: "The secret. Shown only in this response; store it now." }), apiToken: ApiTokenSchema })
  .openapi("CreatedApiToken");

const TokenCreateSchema = z
  .strictObject({
    name: z.string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") }).trim().min(1, "must not be empty").max(100),
    scopes: z
      .array(z.enum(SCOPES, { error: `must be one of: ${SCOPES.join(", ")}` }))
      .min(1, "must list at least one scope")
      .openapi({ example: ["users:read", "users:write"] }),
    expiresAt: z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time in the future" }).nullable().optional(),
  })
  .openapi("ApiTokenCreate");

type TokenRow = typeof apiTokens.$inferSelect;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toApiToken(row: TokenRow) {
  return {
    id: row.id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as Scope[],
    prefix: row.displayPrefix,
    createdAt: new Date(row.createdAt).toISOString(),
    lastUsedAt: iso(row.lastUsedAt),
    expiresAt: iso(row.expiresAt),
    disabledAt: iso(row.disabledAt),
    active: row.disabledAt === null && (row.expiresAt === null || row.expiresAt > Date.now()),
  };
}

/** Builds a new token row; the secret is returned to the caller and never stored. */
export async function newTokenRow(tenantId: string, name: string, scopes: Scope[], expiresAt: number | null = null) {
  const secret = generateToken();
  const row: TokenRow = {
    id: uuidv7(),
    tenantId,
    name,
    tokenHash: await hashToken(secret),
    displayPrefix: displayPrefix(secret),
    scopes: JSON.stringify([...new Set(scopes)]),
    createdAt: Date.now(),
    lastUsedAt: null,
    expiresAt,
    disabledAt: null,
  };
  return { secret, row, view: toApiToken(row) };
}

async function findToken(db: Db, tenantId: string, id: string) {
  const row = await db.select().from(apiTokens).where(and(eq(apiTokens.tenantId, tenantId), eq(apiTokens.id, id))).get();
  if (!row) throw new ApiError("not_found", `No API token with id '${id}' exists in this tenant.`);
  return row;
}

const tags = ["API tokens"];
const security = [{ bearerAuth: [] }];
const IdParam = z.object({ id: z.string().max(64) });

export const apiTokensRouter = createRouter();
apiTokensRouter.use("/v1/api-tokens/*", requireScope("admin"));

apiTokensRouter.openapi(
  createRoute({
    method: "post",
    path: "/v1/api-tokens",
    tags,
    security,
    summary: "Create an API token",
    description: `Scopes: ${SCOPES.join(", ")}. Tokens never expire unless \`expiresAt\` is set. The secret is shown once.`,
    request: { body: jsonBodyOf(TokenCreateSchema) },
    responses: { 201: jsonContent(CreatedTokenSchema, "Created; `token` is the secret."), ...errorResponses, ...bodyErrorResponses },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const expiresAt = body.expiresAt ? Date.parse(body.expiresAt) : null;
    if (expiresAt !== null && expiresAt <= Date.now()) {
      throw new ApiError("validation_failed", "expiresAt: must be in the future", { errors: [{ path: "expiresAt", message: "must be in the future" }] });
    }
    const { secret, row, view } = await newTokenRow(c.get("tenant").id, body.name, body.scopes, expiresAt);
    // A blind write: settle the token first, so its event names the token (same round trip the write would spend on it).
    await verifyPendingAuth(c.get("gates"));
    const db = c.get("db");
    await db.batch([db.insert(apiTokens).values(row), adminEvent(db, row.tenantId, "api_token.created", row.id, { apiToken: view })]);
    c.header("Location", `/v1/api-tokens/${row.id}`);
    c.header("Cache-Control", "no-store");
    return c.json({ token: secret, apiToken: view }, 201);
  },
);

apiTokensRouter.openapi(
  createRoute({
    method: "get",
    path: "/v1/api-tokens",
    tags,
    security,
    summary: "List API tokens (never the secrets)",
    responses: { 200: jsonContent(z.object({ data: z.array(ApiTokenSchema) }), "All tokens of the tenant, oldest first."), ...errorResponses },
  }),
  async (c) => {
    const rows = await c
      .get("db")
      .select()
      .from(apiTokens)
      .where(eq(apiTokens.tenantId, c.get("tenant").id))
      .orderBy(asc(apiTokens.id))
      .limit(1000)
      .all();
    return c.json({ data: rows.map(toApiToken) }, 200);
  },
);

apiTokensRouter.openapi(
  createRoute({
    method: "get",
    path: "/v1/api-tokens/{id}",
    tags,
    security,
    summary: "Get an API token",
    request: { params: IdParam },
    responses: { 200: jsonContent(ApiTokenSchema, "The token (without its secret)."), ...errorResponses },
  }),
  async (c) => c.json(toApiToken(await findToken(c.get("db"), c.get("tenant").id, c.req.valid("param").id)), 200),
);

apiTokensRouter.openapi(
  createRoute({
    method: "delete",
    path: "/v1/api-tokens/{id}",
    tags,
    security,
    summary: "Disable an API token",
    description: "Takes effect on the very next request. The token stays listed with `disabledAt`.",
    request: { params: IdParam },
    responses: { 200: jsonContent(ApiTokenSchema, "The disabled token."), ...errorResponses },
  }),
  async (c) => {
    const db = c.get("db");
    const tenantId = c.get("tenant").id;
    const row = await findToken(db, tenantId, c.req.valid("param").id);
    if (row.disabledAt === null) {
      row.disabledAt = Date.now();
      await db.batch([
        db.update(apiTokens).set({ disabledAt: row.disabledAt }).where(and(eq(apiTokens.tenantId, tenantId), eq(apiTokens.id, row.id))),
        adminEvent(db, tenantId, "api_token.disabled", row.id, { id: row.id, name: row.name }, row.disabledAt),
      ]);
    }
    return c.json(toApiToken(row), 200);
  },
);
