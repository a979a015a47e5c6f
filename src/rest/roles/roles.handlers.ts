/**
 * Handlers for /v1/roles, one per route contract in ./roles.routes.ts and typed by it
 * (RouteHandler<typeof route, AppEnv>): they translate shapes; the rules live in the core.
 */
import { adminEvent, settleActor } from "../../audit/admin-events";
import { coreContextOf } from "../../core/from-request";
import type { RouteHandler } from "@hono/zod-openapi";
import { and, asc, eq, sql } from "drizzle-orm";
import { uniqueViolation } from "../../db/errors";
import { roles, users } from "../../db/schema";
import type { AppEnv, Db } from "../../env";
import { insertEventsForUsers } from "../../events/outbox";
import { ApiError } from "../../http/errors";
import { uuidv7 } from "../../lib/ids";
import type * as routes from "./roles.routes";
import { wholeList } from "../../http/paging";

type RoleRow = typeof roles.$inferSelect;
const view = (r: RoleRow, userCount?: number) => ({
  id: r.id,
  name: r.name,
  weight: r.weight,
  permissions: JSON.parse(r.permissions) as string[],
  ...(userCount === undefined ? {} : { userCount }),
  createdAt: new Date(r.createdAt).toISOString(),
  updatedAt: new Date(r.updatedAt).toISOString(),
});

const roleQuery = (db: Db, tenantId: string, id: string) => db.select().from(roles).where(and(eq(roles.tenantId, tenantId), eq(roles.id, id)));
const holdersQuery = (db: Db, tenantId: string, roleId: string) =>
  db.select({ n: sql<number>`count(*)` }).from(users).where(and(eq(users.tenantId, tenantId), eq(users.roleId, roleId)));

function found(row: RoleRow | undefined, id: string): RoleRow {
  if (!row) throw new ApiError("not_found", `No role with id '${id}' exists in this tenant.`);
  return row;
}

async function findRole(db: Db, tenantId: string, id: string): Promise<RoleRow> {
  return found(await roleQuery(db, tenantId, id).get(), id);
}

function nameTaken(err: unknown, value: string): ApiError | null {
  if (!uniqueViolation(err)?.includes("roles.name")) return null;
  return new ApiError("conflict", `A role named '${value}' already exists.`, { errors: [{ path: "name", message: "is taken" }] });
}

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const rows = await c.get("db").select().from(roles).where(eq(roles.tenantId, c.get("tenant").id)).orderBy(sql`${roles.weight} DESC`, asc(roles.name)).all();
  return c.json({ data: rows.map((r) => view(r)), pagination: wholeList(rows.length) }, 200);
};

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const now = Date.now();
  const row: RoleRow = {
    tenantId: c.get("tenant").id,
    id: uuidv7(now),
    name: body.name,
    weight: body.weight ?? 0,
    permissions: JSON.stringify([...new Set(body.permissions ?? [])]),
    createdAt: now,
    updatedAt: now,
  };
  try {
    const db = c.get("db");
    await settleActor(coreContextOf(c));
    const event = adminEvent({ db, tenantId: row.tenantId }, "role.created", row.id, { role: { id: row.id, name: row.name, weight: row.weight, permissions: JSON.parse(row.permissions) } }, now);
    await db.batch([db.insert(roles).values(row), event]);
  } catch (err) {
    throw nameTaken(err, body.name) ?? err;
  }
  c.header("Location", `/v1/roles/${row.id}`);
  return c.json(view(row, 0), 201);
};

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => {
  const db = c.get("db");
  const tenantId = c.get("tenant").id;
  const { id } = c.req.valid("param");
  // The role and how many users hold it in one batch: one round trip.
  const [rows, counts] = await db.batch([roleQuery(db, tenantId, id), holdersQuery(db, tenantId, id)]);
  return c.json(view(found(rows[0], id), counts[0]?.n ?? 0), 200);
};

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) => {
  const db = c.get("db");
  const tenantId = c.get("tenant").id;
  const body = c.req.valid("json");
  const row = await findRole(db, tenantId, c.req.valid("param").id);
  const next: RoleRow = {
    ...row,
    name: body.name ?? row.name,
    weight: body.weight ?? row.weight,
    permissions: body.permissions ? JSON.stringify([...new Set(body.permissions)]) : row.permissions,
    updatedAt: Date.now(),
  };
  try {
    await db.batch([
      db.update(roles).set({ name: next.name, weight: next.weight, permissions: next.permissions, updatedAt: next.updatedAt }).where(and(eq(roles.tenantId, tenantId), eq(roles.id, row.id))),
      adminEvent({ db, tenantId }, "role.updated", row.id, { changes: { name: next.name, weight: next.weight, permissions: JSON.parse(next.permissions) } }, next.updatedAt),
    ]);
  } catch (err) {
    throw nameTaken(err, next.name) ?? err;
  }
  return c.json(view(next), 200);
};

export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  const db = c.get("db");
  const tenantId = c.get("tenant").id;
  const { id } = c.req.valid("param");
  const { reassignTo } = c.req.valid("query");
  const [rows, counts] = await db.batch([roleQuery(db, tenantId, id), holdersQuery(db, tenantId, id)]);
  const row = found(rows[0], id);
  const count = counts[0]?.n ?? 0;
  if (count > 0 && reassignTo === undefined) {
    throw new ApiError("conflict", `${count} user(s) hold the role '${row.name}'. Pass ?reassignTo=<roleId> to move them, or ?reassignTo=none to leave them without a role.`, {
      extra: { userCount: count },
    });
  }
  let target: string | null = null;
  if (reassignTo !== undefined && reassignTo !== "none") {
    if (reassignTo === row.id) throw new ApiError("invalid_query", "reassignTo: must be another role", { errors: [{ path: "reassignTo", message: "must be another role" }] });
    target = (await findRole(db, tenantId, reassignTo).catch(() => {
      throw new ApiError("invalid_query", `reassignTo: no role with id '${reassignTo}'`, { errors: [{ path: "reassignTo", message: "must be the id of another role, or none" }] });
    })).id;
  }
  const now = Date.now();
  await db.batch([
    insertEventsForUsers(db, { tenantId, type: "user.updated", data: { changes: { roleId: target } }, createdAt: now }, eq(users.roleId, row.id)),
    db
      .update(users)
      .set({ roleId: target, version: sql`${users.version} + 1`, updatedAt: now })
      .where(and(eq(users.tenantId, tenantId), eq(users.roleId, row.id))),
    db.delete(roles).where(and(eq(roles.tenantId, tenantId), eq(roles.id, row.id))),
    adminEvent({ db, tenantId }, "role.deleted", row.id, { id: row.id, name: row.name, reassignedTo: target }, now),
  ]);
  return c.body(null, 204);
};
