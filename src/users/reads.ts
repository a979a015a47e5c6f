/**
 * Reading users, in as few round trips as the request allows. A read is one D1 batch (the
 * request's token check rides along, see core/request-db.ts); a write starts with one read batch
 * that holds everything its rules need: the tenant's attribute definitions, roles and identity
 * providers, the current row, the managers it names, and whatever the adapter adds (an
 * idempotency record, say).
 */
import { and, eq, inArray, isNull } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { identityProviders, users } from "../db/schema";
import type { CoreContext } from "../core/context";
import { ApiError } from "../http/errors";
import { attributeDefinitionsQuery, attributeSetFrom } from "./attributes";
import { RoleDirectory, rolesQuery, type IdentityProviderRef, type RoleRef } from "./references";
import { toUser, type User, type UserRow } from "./model";
import type { UserLookups } from "./validate";

type Batch = [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]];

/** What a write reads first. */
export interface WritePlan {
  /** The user being changed: its current row comes back as `row`. */
  userId?: string;
  /** Managers the change may reference; those that are live users come back in `liveManagers`. */
  managerIds?: (string | null | undefined)[];
  /** Adapter queries that travel in the same batch; their results come back in `extra`. */
  extra?: BatchItem<"sqlite">[];
}

export interface WriteReads {
  lookups: UserLookups;
  row: UserRow | undefined;
  /** Which of the asked managers exist and are not erased. */
  liveManagers: Set<string>;
  /** Every manager id that was asked about (a miss among them is a definite "no such user"). */
  askedManagers: Set<string>;
  extra: unknown[];
}

function identityProvidersQuery(ctx: CoreContext) {
  return ctx.db
    .select({ id: identityProviders.id, name: identityProviders.name, enabled: identityProviders.enabled })
    .from(identityProviders)
    .where(eq(identityProviders.tenantId, ctx.tenantId));
}

/** Live users among `ids` (a manager must be one). At most 90 ids keep it under D1's 100 parameters. */
export function liveUsersQuery(ctx: CoreContext, ids: string[]) {
  return ctx.db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.tenantId, ctx.tenantId), inArray(users.id, ids), isNull(users.erasedAt)));
}

function userRowQuery(ctx: CoreContext, id: string) {
  return ctx.db.select().from(users).where(and(eq(users.tenantId, ctx.tenantId), eq(users.id, id)));
}

/** The read batch of a write: one round trip. */
export async function readForWrite(ctx: CoreContext, plan: WritePlan = {}): Promise<WriteReads> {
  const managerIds = [...new Set(plan.managerIds?.filter((m): m is string => typeof m === "string" && m !== ""))].slice(0, 90);
  const queries: BatchItem<"sqlite">[] = [attributeDefinitionsQuery(ctx.db, ctx.tenantId), rolesQuery(ctx.db, ctx.tenantId), identityProvidersQuery(ctx)];
  if (plan.userId !== undefined) queries.push(userRowQuery(ctx, plan.userId));
  if (managerIds.length > 0) queries.push(liveUsersQuery(ctx, managerIds));
  queries.push(...(plan.extra ?? []));
  const results = (await ctx.db.batch(queries as Batch)) as unknown[];
  const [definitions, roleRows, providers] = results as [Parameters<typeof attributeSetFrom>[0], RoleRef[], IdentityProviderRef[]];
  let next = 3;
  const row = plan.userId !== undefined ? (results[next++] as UserRow[])[0] : undefined;
  const liveManagers = new Set(managerIds.length > 0 ? (results[next++] as { id: string }[]).map((r) => r.id) : []);
  return {
    lookups: { attrs: attributeSetFrom(definitions), roles: new RoleDirectory(roleRows), identityProviders: providers },
    row,
    liveManagers,
    askedManagers: new Set(managerIds),
    extra: results.slice(next),
  };
}

/** 404 for an unknown id, 410 for an erased user. */
export function liveRow(row: UserRow | undefined, id: string): UserRow {
  if (!row) throw new ApiError("not_found", `No user with id '${id}' exists in this tenant.`);
  if (row.erasedAt !== null) {
    throw new ApiError("user_erased", `User '${id}' was erased on ${new Date(row.erasedAt).toISOString()}; only its id remains.`);
  }
  return row;
}

/**
 * Reads a live user (404 / 410) together with extra queries in one D1 batch, i.e. one round
 * trip: the role names it needs and whatever the caller shows next to the user.
 */
export async function readUserWith<const Q extends BatchItem<"sqlite">[]>(
  ctx: CoreContext,
  id: string,
  extra: Q,
): Promise<[User, ...{ [K in keyof Q]: Awaited<Q[K]> }]> {
  const [rows, roleRows, ...rest] = await ctx.db.batch([userRowQuery(ctx, id), rolesQuery(ctx.db, ctx.tenantId), ...extra] as unknown as Batch);
  const row = liveRow((rows as UserRow[])[0], id);
  return [toUser(row, new RoleDirectory(roleRows as RoleRef[]), ctx.clock.now()), ...rest] as [User, ...{ [K in keyof Q]: Awaited<Q[K]> }];
}

export async function getUser(ctx: CoreContext, id: string): Promise<User> {
  const [user] = await readUserWith(ctx, id, []);
  return user;
}

/** The live row of a user (404 / 410), in one round trip. */
export async function getUserRow(ctx: CoreContext, id: string): Promise<UserRow> {
  return liveRow(await userRowQuery(ctx, id).get(), id);
}
