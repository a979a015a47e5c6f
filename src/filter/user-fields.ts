/**
 * The SQL side of the field table (users/fields.ts) for filters and sorting: one definition of
 * what a field compares and orders by, shared by the REST filter, the SCIM filter and `sort`.
 */
import { sql, type SQL, type SQLWrapper } from "drizzle-orm";
import { effectiveDisplayNameLower, users } from "../db/schema";
import type { FieldSpec } from "../users/fields";
import type { ScalarAttr } from "./attributes";

/** The value as a response shows it: the column, or the default it renders when unset. */
export function fieldValueExpr(f: FieldSpec): SQLWrapper {
  const column = users[f.column];
  switch (f.whenUnset) {
    case "email":
      return sql`coalesce(${column}, ${users.email})`;
    case "firstAndLastName":
      return sql`coalesce(${column}, trim(coalesce(${users.firstName}, '') || ' ' || coalesce(${users.lastName}, '')))`;
    default:
      return column;
  }
}

/** Lower-cased forms that indexes cover (see db/schema/users.ts), so case-insensitive `eq` is an index lookup. */
const INDEXED_LOWER: Record<NonNullable<FieldSpec["indexedLower"]>, SQLWrapper> = {
  emailLower: users.emailLower,
  userNameLower: users.userNameLower,
  effectiveDisplayNameLower,
};

function lowerExpr(f: FieldSpec): SQLWrapper {
  return f.indexedLower ? INDEXED_LOWER[f.indexedLower] : sql`lower(${fieldValueExpr(f)})`;
}

/** The filter attribute of a field: strings compare ignoring case unless caseExact; ids are not ordered. */
export function fieldFilterAttr(f: FieldSpec): ScalarAttr {
  return {
    kind: "scalar",
    type: "string",
    expr: fieldValueExpr(f),
    caseExact: f.caseExact === true,
    ...(f.caseExact ? {} : { lowerExpr: lowerExpr(f) }),
    ...(f.references ? { ordered: false } : {}),
  };
}

/** What a sortable field orders by: the same (indexed, lower-cased) form its filter compares. */
export function fieldSortExpr(f: FieldSpec): SQL {
  return f.caseExact ? sql`${fieldValueExpr(f)}` : sql`${lowerExpr(f)}`;
}
