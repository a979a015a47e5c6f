/** `/v1/roles`: the tenant's roles (id, name, weight, permissions). Users hold at most one. */
import { adminEvent } from "../audit/admin-events";
import { verifyPendingAuth } from "../core/request-db";
import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, eq, sql } from "drizzle-orm";
import { adminWritesReadersRead } from "../auth/middleware";
import { uniqueViolation } from "../db/errors";
import { roles, users } from "../db/schema";
import type { Db } from "../env";
import { insertEventsForUsers } from "../events/outbox";
import { ApiError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import { bodyErrorResponses, createRouter, errorResponses, jsonBodyOf, jsonContent, problemResponse } from "./openapi";

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

async function findRole(db: Db, tenantId: string, id: string): Promise<RoleRow> {
  const row = await db.select().from(roles).where(and(eq(roles.tenantId, tenantId), eq(roles.id, id))).get();
  if (!row) throw new ApiError("not_found", `No role with id '${id}' exists in this tenant.`);
  return row;
}

async function holders(db: Db, tenantId: string, roleId: string): Promise<number> {
  const row = await db.select({ n: sql<number>`count(*)` }).from(users).where(and(eq(users.tenantId, tenantId), eq(users.roleId, roleId))).get();
  return row?.n ?? 0;
}

function nameTaken(err: unknown, value: string): ApiError | null {
  if (!uniqueViolation(err)?.includes("roles.name")) return null;
  return new ApiError("conflict", `A role named '${value}' already exists.`, { errors: [{ path: "name", message: "is taken" }] });
}

const tags = ["Roles"];
const security = [{ bearerAuth: [] }];
const IdParam = z.object({ id: z.string().max(64) });

export const rolesRouter = createRouter();
rolesRouter.use("/v1/roles/*", adminWritesReadersRead);

rolesRouter.openapi(
  createRoute({
    method: "get",
    path: "/v1/roles",
    tags,
    security,
    summary: "List roles",
    responses: { 200: jsonContent(z.object({ data: z.array(RoleSchema) }), "Roles by descending weight, then name."), ...errorResponses },
  }),
  async (c) => {
    const rows = await c.get("db").select().from(roles).where(eq(roles.tenantId, c.get("tenant").id)).orderBy(sql`${roles.weight} DESC`, asc(roles.name)).all();
    return c.json({ data: rows.map((r) => view(r)) }, 200);
  },
);

rolesRouter.openapi(
  createRoute({
    method: "post",
    path: "/v1/roles",
    tags,
    security,
    summary: "Create a role",
    request: { body: jsonBodyOf(RoleCreateSchema) },
    responses: { 201: jsonContent(RoleSchema, "Created."), ...errorResponses, 409: problemResponse("The name is taken."), ...bodyErrorResponses },
  }),
  async (c) => {
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
      // A blind write: settle the token first, so its event names the token (same round trip the write would spend on it).
      await verifyPendingAuth(c.get("gates"));
      const db = c.get("db");
      await db.batch([db.insert(roles).values(row), adminEvent(db, row.tenantId, "role.created", row.id, { role: { id: row.id, name: row.name, weight: row.weight, permissions: JSON.parse(row.permissions) } }, now)]);
    } catch (err) {
      throw nameTaken(err, body.name) ?? err;
    }
    c.header("Location", `/v1/roles/${row.id}`);
    return c.json(view(row, 0), 201);
  },
);

rolesRouter.openapi(
  createRoute({
    method: "get",
    path: "/v1/roles/{id}",
    tags,
    security,
    summary: "Get a role with the number of users holding it",
    request: { params: IdParam },
    responses: { 200: jsonContent(RoleSchema, "The role."), ...errorResponses },
  }),
  async (c) => {
    const db = c.get("db");
    const tenantId = c.get("tenant").id;
    const row = await findRole(db, tenantId, c.req.valid("param").id);
    return c.json(view(row, await holders(db, tenantId, row.id)), 200);
  },
);

rolesRouter.openapi(
  createRoute({
    method: "patch",
    path: "/v1/roles/{id}",
    tags,
    security,
    summary: "Rename a role or change its weight or permissions",
    description: "Users keep their role by id, so a rename shows on them at once.",
    request: { params: IdParam, body: jsonBodyOf(RolePatchSchema) },
    responses: { 200: jsonContent(RoleSchema, "The updated role."), ...errorResponses, 409: problemResponse("The name is taken."), ...bodyErrorResponses },
  }),
  async (c) => {
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
        adminEvent(db, tenantId, "role.updated", row.id, { changes: { name: next.name, weight: next.weight, permissions: JSON.parse(next.permissions) } }, next.updatedAt),
      ]);
    } catch (err) {
      throw nameTaken(err, next.name) ?? err;
    }
    return c.json(view(next), 200);
  },
);

rolesRouter.openapi(
  createRoute({
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
  }),
  async (c) => {
    const db = c.get("db");
    const tenantId = c.get("tenant").id;
    const row = await findRole(db, tenantId, c.req.valid("param").id);
    const { reassignTo } = c.req.valid("query");
    const count = await holders(db, tenantId, row.id);
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
      adminEvent(db, tenantId, "role.deleted", row.id, { id: row.id, name: row.name, reassignedTo: target }, now),
    ]);
    return c.body(null, 204);
  },
);
