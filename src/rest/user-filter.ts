/**
 * The REST side of the one filter language: the SCIM filter grammar (shared parser and SQL
 * compiler in src/filter/) over the REST attribute names of a user, including the tenant's custom
 * attributes (bare, or as `attributes.<key>`), plus the `sort` parameter.
 */
import { sql, type SQL, type SQLWrapper } from "drizzle-orm";
import { lastActivityKey, roles, users } from "../db/schema";
import type { AttrDef, AttributeMap, ScalarAttr } from "../filter/attributes";
import { FilterCompiler } from "../filter/compile";
import { DEFAULT_FILTER_LIMITS, parseScimFilter } from "../filter/parse";
import { fieldFilterAttr } from "../filter/user-fields";
import { ApiError } from "../http/errors";
import { CUSTOM_KEY_RE, type AttributeSet } from "../users/attributes";
import { FIELD_ENTRIES } from "../users/fields";
import { SORT_FIELDS, type SortField, type UserSort } from "../users/queries";

const toEpoch = (v: string | number | boolean) => (typeof v === "string" && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : undefined);

function col(expr: SQLWrapper, o: Partial<ScalarAttr> = {}): ScalarAttr {
  return { kind: "scalar", type: "string", expr, caseExact: false, ...o };
}

/** REST attribute names -> columns; case-insensitive ones compare through the indexed lower() forms. */
export function restUserFilterMap(attrs: AttributeSet): AttributeMap {
  const core: Record<string, AttrDef> = { id: col(users.id, { caseExact: true }) };
  for (const [name, f] of FIELD_ENTRIES) {
    if (!f.filter) continue;
    // The role by name (`role`), next to its id: compared exactly, as role names are.
    if (f.byName?.key === "role") core.role = col(sql`(SELECT ${roles.name} FROM ${roles} WHERE ${roles.tenantId} = ${users.tenantId} AND ${roles.id} = ${users.roleId})`, { caseExact: true });
    core[name] = fieldFilterAttr(f);
  }
  Object.assign(core, {
    active: col(users.active, { type: "boolean" }),
    createdAt: col(users.createdAt, { type: "dateTime", toStored: toEpoch }),
    updatedAt: col(users.updatedAt, { type: "dateTime", toStored: toEpoch }),
    // A user never seen compares as 1970-01-01, so `lastActivityAt lt "<90 days ago>"` includes them.
    lastActivityAt: col(lastActivityKey, { type: "dateTime", toStored: toEpoch }),
  });
  const custom: Record<string, ScalarAttr> = {};
  for (const d of attrs.custom) {
    if (!CUSTOM_KEY_RE.test(d.key)) continue;
    // The key matches CUSTOM_KEY_RE, so it is safe inside the JSON path literal.
    const expr = sql`json_extract(${users.attributes}, ${sql.raw(`'$.${d.key}'`)})`;
    const type = d.type === "number" ? "decimal" : d.type === "boolean" ? "boolean" : d.type === "date" ? "string" : "string";
    custom[d.key] = col(expr, { type, caseExact: d.type === "enum" });
  }
  const bare: Record<string, AttrDef> = {};
  const coreLower = new Set(Object.keys(core).map((k) => k.toLowerCase()));
  for (const [k, v] of Object.entries(custom)) if (!coreLower.has(k.toLowerCase())) bare[k] = v;
  return {
    schemas: [
      {
        urn: "urn:provisioning:rest:user",
        attributes: { ...core, ...bare, attributes: { kind: "complex", multiValued: false, presence: sql`1`, sub: custom } },
      },
    ],
  };
}

export function compileRestFilter(text: string, attrs: AttributeSet, maxLength = DEFAULT_FILTER_LIMITS.maxLength): SQL {
  return new FilterCompiler(restUserFilterMap(attrs)).compile(parseScimFilter(text, { ...DEFAULT_FILTER_LIMITS, maxLength }));
}

/** `sort=lastName` or `sort=-updatedAt` (descending). */
export function parseSort(value: string | undefined): UserSort | undefined {
  if (value === undefined) return undefined;
  const descending = value.startsWith("-");
  const field = (descending ? value.slice(1) : value) as SortField;
  if (!SORT_FIELDS.includes(field)) {
    throw new ApiError("invalid_query", `sort: '${value}' is not sortable; use one of ${SORT_FIELDS.join(", ")}, with a leading - for descending`, {
      errors: [{ path: "sort", message: `must be one of ${SORT_FIELDS.join(", ")}, optionally prefixed with -` }],
    });
  }
  return { field, descending };
}
