/** `/v1/identity-providers`: where the tenant's users sign in. Users can be bound to one. */
import { adminEvent } from "../audit/admin-events";
import { verifyPendingAuth } from "../core/request-db";
import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, eq, sql } from "drizzle-orm";
import { adminWritesReadersRead } from "../auth/middleware";
import { uniqueViolation } from "../db/errors";
import { identityProviders, users } from "../db/schema";
import type { Db } from "../env";
import { insertEventsForUsers } from "../events/outbox";
import { ApiError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import { bodyErrorResponses, createRouter, errorResponses, jsonBodyOf, jsonContent, problemResponse } from "./openapi";

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

type Row = typeof identityProviders.$inferSelect;
const view = (r: Row, userCount?: number) => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  enabled: r.enabled,
  ...(userCount === undefined ? {} : { userCount }),
  createdAt: new Date(r.createdAt).toISOString(),
  updatedAt: new Date(r.updatedAt).toISOString(),
});

async function find(db: Db, tenantId: string, id: string): Promise<Row> {
  const row = await db.select().from(identityProviders).where(and(eq(identityProviders.tenantId, tenantId), eq(identityProviders.id, id))).get();
  if (!row) throw new ApiError("not_found", `No identity provider with id '${id}' exists in this tenant.`);
  return row;
}

async function boundUsers(db: Db, tenantId: string, id: string): Promise<number> {
  const row = await db.select({ n: sql<number>`count(*)` }).from(users).where(and(eq(users.tenantId, tenantId), eq(users.identityProviderId, id))).get();
  return row?.n ?? 0;
}

function taken(err: unknown): ApiError | null {
  const columns = uniqueViolation(err);
  if (!columns?.startsWith("identity_providers.")) return null;
  const field = columns.includes("prefix") ? "prefix" : "name";
  return new ApiError("conflict", `Another identity provider of this tenant has this ${field}.`, { errors: [{ path: field, message: "is taken" }] });
}

const tags = ["Identity providers"];
const security = [{ bearerAuth: [] }];
const IdParam = z.object({ id: z.string().max(64) });

export const identityProvidersRouter = createRouter();
identityProvidersRouter.use("/v1/identity-providers/*", adminWritesReadersRead);

identityProvidersRouter.openapi(
  createRoute({
    method: "get",
    path: "/v1/identity-providers",
    tags,
    security,
    summary: "List identity providers",
    responses: { 200: jsonContent(z.object({ data: z.array(IdentityProviderSchema) }), "By name."), ...errorResponses },
  }),
  async (c) => {
    const rows = await c.get("db").select().from(identityProviders).where(eq(identityProviders.tenantId, c.get("tenant").id)).orderBy(asc(identityProviders.name)).all();
    return c.json({ data: rows.map((r) => view(r)) }, 200);
  },
);

identityProvidersRouter.openapi(
  createRoute({
    method: "post",
    path: "/v1/identity-providers",
    tags,
    security,
    summary: "Add an identity provider",
    request: { body: jsonBodyOf(CreateSchema) },
    responses: { 201: jsonContent(IdentityProviderSchema, "Created."), ...errorResponses, 409: problemResponse("Name or prefix taken."), ...bodyErrorResponses },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const now = Date.now();
    const row: Row = { tenantId: c.get("tenant").id, id: uuidv7(now), name: body.name, prefix: body.prefix, enabled: body.enabled ?? true, createdAt: now, updatedAt: now };
    try {
      // A blind write: settle the token first, so its event names the token (same round trip the write would spend on it).
      await verifyPendingAuth(c.get("gates"));
      const db = c.get("db");
      await db.batch([db.insert(identityProviders).values(row), adminEvent(db, row.tenantId, "identity_provider.created", row.id, { identityProvider: { id: row.id, name: row.name, prefix: row.prefix, enabled: row.enabled } }, now)]);
    } catch (err) {
      throw taken(err) ?? err;
    }
    c.header("Location", `/v1/identity-providers/${row.id}`);
    return c.json(view(row, 0), 201);
  },
);

identityProvidersRouter.openapi(
  createRoute({
    method: "get",
    path: "/v1/identity-providers/{id}",
    tags,
    security,
    summary: "Get an identity provider with the number of users bound to it",
    request: { params: IdParam },
    responses: { 200: jsonContent(IdentityProviderSchema, "The identity provider."), ...errorResponses },
  }),
  async (c) => {
    const db = c.get("db");
    const tenantId = c.get("tenant").id;
    const row = await find(db, tenantId, c.req.valid("param").id);
    return c.json(view(row, await boundUsers(db, tenantId, row.id)), 200);
  },
);

identityProvidersRouter.openapi(
  createRoute({
    method: "patch",
    path: "/v1/identity-providers/{id}",
    tags,
    security,
    summary: "Rename, re-prefix, enable or disable an identity provider",
    description: "Disabling keeps existing bindings but refuses new ones.",
    request: { params: IdParam, body: jsonBodyOf(PatchSchema) },
    responses: { 200: jsonContent(IdentityProviderSchema, "Updated."), ...errorResponses, 409: problemResponse("Name or prefix taken."), ...bodyErrorResponses },
  }),
  async (c) => {
    const db = c.get("db");
    const tenantId = c.get("tenant").id;
    const body = c.req.valid("json");
    const row = await find(db, tenantId, c.req.valid("param").id);
    const next: Row = { ...row, name: body.name ?? row.name, prefix: body.prefix ?? row.prefix, enabled: body.enabled ?? row.enabled, updatedAt: Date.now() };
    try {
      await db.batch([
        db
          .update(identityProviders)
          .set({ name: next.name, prefix: next.prefix, enabled: next.enabled, updatedAt: next.updatedAt })
          .where(and(eq(identityProviders.tenantId, tenantId), eq(identityProviders.id, row.id))),
        adminEvent(db, tenantId, "identity_provider.updated", row.id, { changes: { name: next.name, prefix: next.prefix, enabled: next.enabled } }, next.updatedAt),
      ]);
    } catch (err) {
      throw taken(err) ?? err;
    }
    return c.json(view(next), 200);
  },
);

identityProvidersRouter.openapi(
  createRoute({
    method: "delete",
    path: "/v1/identity-providers/{id}",
    tags,
    security,
    summary: "Remove an identity provider",
    description: "409 while users are bound to it, unless `unbind=true` (their binding is cleared, each with a user.updated event).",
    request: { params: IdParam, query: z.object({ unbind: z.enum(["true", "false"]).optional() }) },
    responses: { 204: { description: "Removed." }, ...errorResponses, 409: problemResponse("Users are bound to it.") },
  }),
  async (c) => {
    const db = c.get("db");
    const tenantId = c.get("tenant").id;
    const row = await find(db, tenantId, c.req.valid("param").id);
    const count = await boundUsers(db, tenantId, row.id);
    if (count > 0 && c.req.valid("query").unbind !== "true") {
      throw new ApiError("conflict", `${count} user(s) are bound to '${row.name}'. Pass ?unbind=true to clear their binding, or disable it instead.`, { extra: { userCount: count } });
    }
    const now = Date.now();
    await db.batch([
      insertEventsForUsers(db, { tenantId, type: "user.updated", data: { changes: { identityProviderId: null } }, createdAt: now }, eq(users.identityProviderId, row.id)),
      db
        .update(users)
        .set({ identityProviderId: null, version: sql`${users.version} + 1`, updatedAt: now })
        .where(and(eq(users.tenantId, tenantId), eq(users.identityProviderId, row.id))),
      db.delete(identityProviders).where(and(eq(identityProviders.tenantId, tenantId), eq(identityProviders.id, row.id))),
      adminEvent(db, tenantId, "identity_provider.deleted", row.id, { id: row.id, name: row.name }, now),
    ]);
    return c.body(null, 204);
  },
);
