/**
 * What SCIM list and .search requests share between Users and Groups (RFC 7644 §3.4.2): the
 * parameters, the page bounds (startIndex below 1 means 1, a negative count means 0, count capped)
 * and the ORDER BY that sortBy/sortOrder compile to, with the resource id last so pages are
 * stable. One place so that both resources answer the same parameters the same way.
 */
import { asc, desc, type SQL, type SQLWrapper } from "drizzle-orm";
import type { ScalarAttr } from "../filter/attributes";
import type { FilterCompiler } from "../filter/compile";
import { ApiError } from "../http/errors";
import type { Projection } from "./http";

export const DEFAULT_COUNT = 100;
export const MAX_COUNT = 200;

export interface ListParams {
  filter?: string;
  startIndex?: number;
  count?: number;
  sortBy?: string;
  sortOrder?: string;
  projection: Projection;
}

/** RFC 7644 §3.4.2.4: startIndex < 1 means 1; a negative count means 0; at most MAX_COUNT. */
export function pageBounds(params: ListParams): { startIndex: number; limit: number } {
  return { startIndex: Math.max(1, params.startIndex ?? 1), limit: Math.min(MAX_COUNT, Math.max(0, params.count ?? DEFAULT_COUNT)) };
}

/** sortBy / sortOrder as ORDER BY terms over the compiler's attributes; `id` breaks ties. */
export function sortOrder(compiler: FilterCompiler, params: ListParams, id: SQLWrapper): SQL[] {
  const order: SQL[] = [];
  if (params.sortBy) {
    const r = compiler.resolve(params.sortBy);
    let def = r.def;
    if (def.kind === "complex" && def.defaultSub) def = def.sub[def.defaultSub]!;
    if (def.kind !== "scalar") {
      throw new ApiError("invalid_query", `sortBy '${params.sortBy}' is not a sortable attribute.`, { errors: [{ path: "sortBy", message: "must name a single-valued attribute" }] });
    }
    const s = def as ScalarAttr;
    const expr = (s.type === "string" && !s.caseExact ? (s.lowerExpr ?? s.expr) : s.expr) as SQL;
    order.push((params.sortOrder ?? "ascending").toLowerCase() === "descending" ? desc(expr) : asc(expr));
  } else if (params.sortOrder && !/^(ascending|descending)$/i.test(params.sortOrder)) {
    throw new ApiError("invalid_query", "sortOrder must be ascending or descending.", { errors: [{ path: "sortOrder", message: "must be ascending or descending" }] });
  }
  // The id (UUIDv7, creation order) breaks ties, so pages are stable.
  order.push(asc(id));
  return order;
}
