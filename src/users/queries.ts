/**
 * User listings. Every filter is an index range inside the tenant and paging is keyset (by id, or
 * by (updated_at, id) when filtering on updatedSince), so page 10,000 costs what page 1 costs.
 * `page`/`pageSize` (offset paging) exist for clients that insist on them.
 */
import { and, asc, count, eq, getTableColumns, gt, gte, isNull, or, sql, type SQL } from "drizzle-orm";
import { users } from "../db/schema";
import { decodeCursor, encodeCursor } from "../http/cursor";
import type { CoreContext } from "./service";
import { toUser, type User, type UserRow } from "./model";
import { loadRoles } from "./references";

export interface UserListQuery {
  email?: string;
  externalId?: string;
  active?: boolean;
  /** Epoch milliseconds. */
  updatedSince?: number;
  /** Case-insensitive prefix of first, last or display name, or of the email. */
  q?: string;
  limit: number;
  cursor?: string;
  /** Offset paging (1-based); when set, `cursor` is ignored. */
  page?: number;
}

export interface UserListPage {
  data: User[];
  nextCursor: string | null;
  /** Only for offset paging. */
  totalCount?: number;
}

/** Upper bound for a prefix range: every string that starts with `prefix` sorts below it. */
function prefixUpper(prefix: string): string {
  return `${prefix}\u{10FFFF}`;
}

const ROW_COLUMNS = sql.join(
  Object.entries(getTableColumns(users)).map(([key, column]) => sql`${column} AS ${sql.identifier(key)}`),
  sql`, `,
);

/**
 * `q`: the rows whose email or lower-cased first, last or display name starts with the prefix.
 * Each branch is a range on its own index; the CROSS JOIN makes SQLite drive from those matches
 * (instead of walking the whole tenant in id order), so the cost follows the number of matches.
 */
async function prefixSearch(ctx: CoreContext, q: string, conditions: SQL[], byUpdated: boolean, limit: number): Promise<UserRow[]> {
  const p = q.toLowerCase();
  const upper = prefixUpper(p);
  const t = ctx.tenantId;
  const rows = await ctx.db.all<Record<string, unknown>>(sql`
    SELECT ${ROW_COLUMNS} FROM (
      SELECT rowid AS rid FROM users WHERE tenant_id = ${t} AND email_lower >= ${p} AND email_lower < ${upper}
      UNION SELECT rowid FROM users WHERE tenant_id = ${t} AND lower(first_name) >= ${p} AND lower(first_name) < ${upper}
      UNION SELECT rowid FROM users WHERE tenant_id = ${t} AND lower(last_name) >= ${p} AND lower(last_name) < ${upper}
      UNION SELECT rowid FROM users WHERE tenant_id = ${t} AND lower(display_name) >= ${p} AND lower(display_name) < ${upper}
    ) AS m CROSS JOIN ${users} ON ${users}.rowid = m.rid
    WHERE ${and(...conditions)}
    ORDER BY ${byUpdated ? sql`${users.updatedAt}, ${users.id}` : users.id}
    LIMIT ${limit}`);
  return rows.map((r) => ({ ...r, active: Boolean(r.active) }) as UserRow);
}

export async function listUsers(ctx: CoreContext, query: UserListQuery): Promise<UserListPage> {
  const conditions: SQL[] = [eq(users.tenantId, ctx.tenantId), isNull(users.erasedAt)];
  if (query.email !== undefined) conditions.push(eq(users.emailLower, query.email.toLowerCase()));
  if (query.externalId !== undefined) conditions.push(eq(users.externalId, query.externalId));
  if (query.active !== undefined) conditions.push(eq(users.active, query.active));

  const byUpdated = query.updatedSince !== undefined;
  if (byUpdated) conditions.push(gte(users.updatedAt, query.updatedSince!));
  const ordering = byUpdated ? "updated" : "id";
  const orderBy = byUpdated ? [asc(users.updatedAt), asc(users.id)] : [asc(users.id)];

  if (query.page !== undefined) {
    const [rows, total] = await Promise.all([
      ctx.db.select().from(users).where(and(...conditions)).orderBy(...orderBy).limit(query.limit).offset((query.page - 1) * query.limit).all(),
      ctx.db.select({ n: count() }).from(users).where(and(...conditions)).get(),
    ]);
    const roles = await loadRoles(ctx.db, ctx.tenantId);
    return { data: rows.map((r) => toUser(r, roles)), nextCursor: null, totalCount: total?.n ?? 0 };
  }

  if (query.cursor) {
    const key = decodeCursor(query.cursor, ordering, byUpdated ? 2 : 1);
    if (byUpdated) {
      const [updatedAt, id] = key as [number, string];
      conditions.push(or(gt(users.updatedAt, updatedAt), and(eq(users.updatedAt, updatedAt), gt(users.id, id)))!);
    } else {
      conditions.push(gt(users.id, String(key[0])));
    }
  }
  // One extra row tells whether there is a next page without a count query.
  const rows =
    query.q !== undefined
      ? await prefixSearch(ctx, query.q, conditions, byUpdated, query.limit + 1)
      : await ctx.db.select().from(users).where(and(...conditions)).orderBy(...orderBy).limit(query.limit + 1).all();
  const hasMore = rows.length > query.limit;
  const page = hasMore ? rows.slice(0, query.limit) : rows;
  const last = page[page.length - 1];
  const nextCursor =
    hasMore && last ? encodeCursor({ o: ordering, k: byUpdated ? [last.updatedAt, last.id] : [last.id] }) : null;
  const roles = await loadRoles(ctx.db, ctx.tenantId);
  return { data: page.map((r) => toUser(r, roles)), nextCursor };
}
