/**
 * User listings. Every filter is an index range inside the tenant and paging is keyset (by id, or
 * by (updated_at, id) when filtering on updatedSince), so page 10,000 costs what page 1 costs.
 * `page`/`pageSize` (offset paging) exist for clients that insist on them.
 */
import { and, count, eq, getTableColumns, gte, isNull, or, sql, type SQL } from "drizzle-orm";
import { lastActivityKey, users } from "../db/schema";
import { decodeCursor, encodeCursor } from "../http/cursor";
import type { CoreContext } from "../core/context";
import { fieldSortExpr } from "../filter/user-fields";
import { SORTABLE_FIELDS, USER_FIELDS, type SortableField } from "./fields";
import { toUser, type User, type UserRow } from "./model";
import { loadRoles } from "./references";

/**
 * Fields a listing can be sorted by: the id and timestamps, and the fields the field table marks
 * sortable. Each is present on every live user, so keyset paging is exact.
 */
export const SORT_FIELDS = ["id", "createdAt", "updatedAt", "lastActivityAt", ...SORTABLE_FIELDS] as const;
export type SortField = "id" | "createdAt" | "updatedAt" | "lastActivityAt" | SortableField;

export interface UserSort {
  field: SortField;
  descending: boolean;
}

export interface UserListQuery {
  email?: string;
  externalId?: string;
  active?: boolean;
  /** Epoch milliseconds. */
  updatedSince?: number;
  /** Case-insensitive prefix of first, last or display name, or of the email. */
  q?: string;
  /** An extra condition over `users`, e.g. a compiled filter expression. */
  where?: SQL;
  /** Default: by id (creation order); with updatedSince, by updatedAt. */
  sort?: UserSort;
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

/** The SQL each sort field orders by (ids are UUIDv7, so id order is creation order). */
const SORT_EXPR = {
  id: users.id,
  createdAt: users.id,
  updatedAt: sql`${users.updatedAt}`,
  // Never NULL (0 for a user never seen), so keyset cursors work; the expression index covers it.
  lastActivityAt: lastActivityKey,
  ...Object.fromEntries(SORTABLE_FIELDS.map((f) => [f, fieldSortExpr(USER_FIELDS[f])])),
} as Record<SortField, SQL | typeof users.id>;

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
async function prefixSearch(ctx: CoreContext, q: string, conditions: SQL[], orderBy: SQL, sortKey: SQL, limit: number): Promise<SortedRow[]> {
  const p = q.toLowerCase();
  const upper = prefixUpper(p);
  const t = ctx.tenantId;
  const rows = await ctx.db.all<Record<string, unknown>>(sql`
    SELECT ${ROW_COLUMNS}, ${sortKey} AS "__sortKey" FROM (
      SELECT rowid AS rid FROM users WHERE tenant_id = ${t} AND email_lower >= ${p} AND email_lower < ${upper}
      UNION SELECT rowid FROM users WHERE tenant_id = ${t} AND lower(first_name) >= ${p} AND lower(first_name) < ${upper}
      UNION SELECT rowid FROM users WHERE tenant_id = ${t} AND lower(last_name) >= ${p} AND lower(last_name) < ${upper}
      UNION SELECT rowid FROM users WHERE tenant_id = ${t} AND lower(display_name) >= ${p} AND lower(display_name) < ${upper}
    ) AS m CROSS JOIN ${users} ON ${users}.rowid = m.rid
    WHERE ${and(...conditions)}
    ORDER BY ${orderBy}
    LIMIT ${limit}`);
  return rows.map(({ __sortKey, ...r }) => ({ row: { ...r, active: Boolean(r.active) } as UserRow, sortKey: __sortKey as string | number }));
}

interface SortedRow {
  row: UserRow;
  sortKey: string | number;
}

export async function listUsers(ctx: CoreContext, query: UserListQuery): Promise<UserListPage> {
  const conditions: SQL[] = [eq(users.tenantId, ctx.tenantId), isNull(users.erasedAt)];
  if (query.email !== undefined) conditions.push(eq(users.emailLower, query.email.toLowerCase()));
  if (query.externalId !== undefined) conditions.push(eq(users.externalId, query.externalId));
  if (query.active !== undefined) conditions.push(eq(users.active, query.active));
  if (query.updatedSince !== undefined) conditions.push(gte(users.updatedAt, query.updatedSince));
  if (query.where) conditions.push(query.where);

  const sort = query.sort ?? { field: query.updatedSince !== undefined ? "updatedAt" : "id", descending: false };
  const byId = sort.field === "id" || sort.field === "createdAt";
  const expr = SORT_EXPR[sort.field];
  const dir = sort.descending ? sql`DESC` : sql`ASC`;
  const orderBy = byId ? sql`${users.id} ${dir}` : sql`${expr} ${dir}, ${users.id} ${dir}`;
  // The cursor names its ordering, so it cannot be replayed against another sort.
  const ordering = `${byId ? "id" : sort.field}:${sort.descending ? "desc" : "asc"}`;
  // Role names are read alongside the page, not before it: one round trip in time.
  const rolesRead = loadRoles(ctx.db, ctx.tenantId);

  if (query.page !== undefined) {
    const [rows, total, roles] = await Promise.all([
      ctx.db.select().from(users).where(and(...conditions)).orderBy(orderBy).limit(query.limit).offset((query.page - 1) * query.limit).all(),
      ctx.db.select({ n: count() }).from(users).where(and(...conditions)).get(),
      rolesRead,
    ]);
    return { data: rows.map((r) => toUser(r, roles, ctx.clock.now())), nextCursor: null, totalCount: total?.n ?? 0 };
  }

  if (query.cursor) {
    const after = (a: SQL | typeof users.id, v: string | number) => (sort.descending ? sql`${a} < ${v}` : sql`${a} > ${v}`);
    if (byId) {
      const [id] = decodeCursor(query.cursor, ordering, 1);
      conditions.push(after(users.id, String(id)));
    } else {
      const [value, id] = decodeCursor(query.cursor, ordering, 2) as [string | number, string];
      conditions.push(or(after(expr, value), and(sql`${expr} = ${value}`, after(users.id, String(id))))!);
    }
  }
  // One extra row tells whether there is a next page without a count query.
  const sortKey = sql`${expr}`;
  const [rows, roles] = await Promise.all([
    query.q !== undefined
      ? prefixSearch(ctx, query.q, conditions, orderBy, sortKey, query.limit + 1)
      : (ctx.db.select({ row: users, sortKey: sql<string | number>`${expr}` }).from(users).where(and(...conditions)).orderBy(orderBy).limit(query.limit + 1).all() as Promise<SortedRow[]>),
    rolesRead,
  ]);
  const hasMore = rows.length > query.limit;
  const page = hasMore ? rows.slice(0, query.limit) : rows;
  const last = page[page.length - 1];
  const nextCursor = hasMore && last ? encodeCursor({ o: ordering, k: byId ? [last.row.id] : [last.sortKey, last.row.id] }) : null;
  return { data: page.map((r) => toUser(r.row, roles, ctx.clock.now())), nextCursor };
}
