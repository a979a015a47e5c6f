/**
 * Roles and identity providers are the tenant's reference data that users point at by id
 * (users.role_id, users.identity_provider_id). Their REST resources share the same mechanics,
 * kept here once: find one by id (404 otherwise), count the users pointing at it, and delete it
 * while moving those users elsewhere (each with a new version and a user.updated event) in one
 * batch.
 */
import { and, eq, sql } from "drizzle-orm";
import { identityProviders, roles, users } from "../db/schema";
import type { Db } from "../env";
import { insertEventsForUsers } from "../events/outbox";
import { ApiError } from "../http/errors";

const REFERENCES = {
  role: { table: roles, column: "roleId", label: "role" },
  identityProvider: { table: identityProviders, column: "identityProviderId", label: "identity provider" },
} as const;

type Reference = keyof typeof REFERENCES;
type RowOf<R extends Reference> = (typeof REFERENCES)[R]["table"]["$inferSelect"];

export async function findReference<R extends Reference>(db: Db, kind: R, tenantId: string, id: string): Promise<RowOf<R>> {
  const { table, label } = REFERENCES[kind];
  const row = await db
    .select()
    .from(table as typeof roles)
    .where(and(eq(table.tenantId, tenantId), eq(table.id, id)))
    .get();
  if (!row) throw new ApiError("not_found", `No ${label} with id '${id}' exists in this tenant.`);
  return row as RowOf<R>;
}

/** How many users point at the role or identity provider. */
export async function usersReferencing(db: Db, kind: Reference, tenantId: string, id: string): Promise<number> {
  const column = users[REFERENCES[kind].column];
  const row = await db.select({ n: sql<number>`count(*)` }).from(users).where(and(eq(users.tenantId, tenantId), eq(column, id))).get();
  return row?.n ?? 0;
}

/** Deletes the row and points its users at `target` (null: at nothing): one batch. */
export async function deleteReference(db: Db, kind: Reference, tenantId: string, id: string, target: string | null): Promise<void> {
  const { table, column: field } = REFERENCES[kind];
  const column = users[field];
  const now = Date.now();
  await db.batch([
    insertEventsForUsers(db, { tenantId, type: "user.updated", data: { changes: { [field]: target } }, createdAt: now }, eq(column, id)),
    db
      .update(users)
      .set({ [field]: target, version: sql`${users.version} + 1`, updatedAt: now })
      .where(and(eq(users.tenantId, tenantId), eq(column, id))),
    db.delete(table).where(and(eq(table.tenantId, tenantId), eq(table.id, id))),
  ]);
}
