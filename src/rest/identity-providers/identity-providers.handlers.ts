/**
 * Handlers for /v1/identity-providers, one per route contract in ./identity-providers.routes.ts and typed by it
 * (RouteHandler<typeof route, AppEnv>): they translate shapes; the rules live in the core.
 */
import { adminEvent, settleActor } from "../../audit/admin-events";
import { coreContextOf } from "../../core/from-request";
import type { RouteHandler } from "@hono/zod-openapi";
import { and, asc, eq, sql } from "drizzle-orm";
import { uniqueViolation } from "../../db/errors";
import { identityProviders, users } from "../../db/schema";
import type { AppEnv, Db } from "../../env";
import { insertEventsForUsers } from "../../events/outbox";
import { ApiError } from "../../http/errors";
import { uuidv7 } from "../../lib/ids";
import type * as routes from "./identity-providers.routes";
import { wholeList } from "../../http/paging";

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

const providerQuery = (db: Db, tenantId: string, id: string) =>
  db.select().from(identityProviders).where(and(eq(identityProviders.tenantId, tenantId), eq(identityProviders.id, id)));
const boundUsersQuery = (db: Db, tenantId: string, id: string) =>
  db.select({ n: sql<number>`count(*)` }).from(users).where(and(eq(users.tenantId, tenantId), eq(users.identityProviderId, id)));

function found(row: Row | undefined, id: string): Row {
  if (!row) throw new ApiError("not_found", `No identity provider with id '${id}' exists in this tenant.`);
  return row;
}

async function find(db: Db, tenantId: string, id: string): Promise<Row> {
  return found(await providerQuery(db, tenantId, id).get(), id);
}

function taken(err: unknown): ApiError | null {
  const columns = uniqueViolation(err);
  if (!columns?.startsWith("identity_providers.")) return null;
  const field = columns.includes("prefix") ? "prefix" : "name";
  return new ApiError("conflict", `Another identity provider of this tenant has this ${field}.`, { errors: [{ path: field, message: "is taken" }] });
}

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const rows = await c.get("db").select().from(identityProviders).where(eq(identityProviders.tenantId, c.get("tenant").id)).orderBy(asc(identityProviders.name)).all();
  return c.json({ data: rows.map((r) => view(r)), pagination: wholeList(rows.length) }, 200);
};

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const now = Date.now();
  const row: Row = { tenantId: c.get("tenant").id, id: uuidv7(now), name: body.name, prefix: body.prefix, enabled: body.enabled ?? true, createdAt: now, updatedAt: now };
  try {
    const db = c.get("db");
    await settleActor(coreContextOf(c));
    const event = adminEvent({ db, tenantId: row.tenantId }, "identity_provider.created", row.id, { identityProvider: { id: row.id, name: row.name, prefix: row.prefix, enabled: row.enabled } }, now);
    await db.batch([db.insert(identityProviders).values(row), event]);
  } catch (err) {
    throw taken(err) ?? err;
  }
  c.header("Location", `/v1/identity-providers/${row.id}`);
  return c.json(view(row, 0), 201);
};

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => {
  const db = c.get("db");
  const tenantId = c.get("tenant").id;
  const { id } = c.req.valid("param");
  // The provider and how many users it provisioned in one batch: one round trip.
  const [rows, counts] = await db.batch([providerQuery(db, tenantId, id), boundUsersQuery(db, tenantId, id)]);
  return c.json(view(found(rows[0], id), counts[0]?.n ?? 0), 200);
};

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) => {
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
      adminEvent({ db, tenantId }, "identity_provider.updated", row.id, { changes: { name: next.name, prefix: next.prefix, enabled: next.enabled } }, next.updatedAt),
    ]);
  } catch (err) {
    throw taken(err) ?? err;
  }
  return c.json(view(next), 200);
};

export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  const db = c.get("db");
  const tenantId = c.get("tenant").id;
  const { id } = c.req.valid("param");
  const [rows, counts] = await db.batch([providerQuery(db, tenantId, id), boundUsersQuery(db, tenantId, id)]);
  const row = found(rows[0], id);
  const count = counts[0]?.n ?? 0;
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
    adminEvent({ db, tenantId }, "identity_provider.deleted", row.id, { id: row.id, name: row.name }, now),
  ]);
  return c.body(null, 204);
};
