/**
 * Handlers for /v1/identity-providers, one per route contract in ./identity-providers.routes.ts and typed by it
 * (RouteHandler<typeof route, AppEnv>): they translate shapes; the rules live in the core.
 */
import type { RouteHandler } from "@hono/zod-openapi";
import { and, asc, eq } from "drizzle-orm";
import { uniqueViolation } from "../../db/errors";
import { identityProviders } from "../../db/schema";
import type { AppEnv, Db } from "../../env";
import { ApiError } from "../../http/errors";
import { uuidv7 } from "../../lib/ids";
import { deleteReference, findReference, usersReferencing } from "../user-references";
import type * as routes from "./identity-providers.routes";

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

const find = (db: Db, tenantId: string, id: string) => findReference(db, "identityProvider", tenantId, id);

function taken(err: unknown): ApiError | null {
  const columns = uniqueViolation(err);
  if (!columns?.startsWith("identity_providers.")) return null;
  const field = columns.includes("prefix") ? "prefix" : "name";
  return new ApiError("conflict", `Another identity provider of this tenant has this ${field}.`, { errors: [{ path: field, message: "is taken" }] });
}

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const rows = await c.get("db").select().from(identityProviders).where(eq(identityProviders.tenantId, c.get("tenant").id)).orderBy(asc(identityProviders.name)).all();
  return c.json({ data: rows.map((r) => view(r)) }, 200);
};

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const now = Date.now();
  const row: Row = { tenantId: c.get("tenant").id, id: uuidv7(now), name: body.name, prefix: body.prefix, enabled: body.enabled ?? true, createdAt: now, updatedAt: now };
  try {
    await c.get("db").insert(identityProviders).values(row).run();
  } catch (err) {
    throw taken(err) ?? err;
  }
  c.header("Location", `/v1/identity-providers/${row.id}`);
  return c.json(view(row, 0), 201);
};

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => {
  const db = c.get("db");
  const tenantId = c.get("tenant").id;
  const row = await find(db, tenantId, c.req.valid("param").id);
  return c.json(view(row, await usersReferencing(db, "identityProvider", tenantId, row.id)), 200);
};

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) => {
  const db = c.get("db");
  const tenantId = c.get("tenant").id;
  const body = c.req.valid("json");
  const row = await find(db, tenantId, c.req.valid("param").id);
  const next: Row = { ...row, name: body.name ?? row.name, prefix: body.prefix ?? row.prefix, enabled: body.enabled ?? row.enabled, updatedAt: Date.now() };
  try {
    await db
      .update(identityProviders)
      .set({ name: next.name, prefix: next.prefix, enabled: next.enabled, updatedAt: next.updatedAt })
      .where(and(eq(identityProviders.tenantId, tenantId), eq(identityProviders.id, row.id)))
      .run();
  } catch (err) {
    throw taken(err) ?? err;
  }
  return c.json(view(next), 200);
};

export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  const db = c.get("db");
  const tenantId = c.get("tenant").id;
  const row = await find(db, tenantId, c.req.valid("param").id);
  const count = await usersReferencing(db, "identityProvider", tenantId, row.id);
  if (count > 0 && c.req.valid("query").unbind !== "true") {
    throw new ApiError("conflict", `${count} user(s) are bound to '${row.name}'. Pass ?unbind=true to clear their binding, or disable it instead.`, { extra: { userCount: count } });
  }
  await deleteReference(db, "identityProvider", tenantId, row.id, null);
  return c.body(null, 204);
};
