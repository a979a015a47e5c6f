/**
 * The filter attribute maps of the SCIM resources: SCIM attribute names (userName, emails.value,
 * urn:...:enterprise:2.0:User:manager, the tenant's custom attributes) mapped to columns and
 * indexed expressions of `users` and `collections`, for the filter compiler and sortBy. Apart from
 * schema.ts (the documents /Schemas serves) because this half speaks SQL and that half does not.
 */
import { sql, type SQLWrapper } from "drizzle-orm";
import { collections, users } from "../db/schema";
import type { AttrDef, AttributeMap, ComplexAttr, ScalarAttr } from "../filter/attributes";
import { fieldFilterAttr } from "../filter/user-fields";
import { CUSTOM_KEY_RE, type AttributeSet } from "../users/attributes";
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER, TENANT_USER } from "./schema";
import { SCIM_PLACEMENTS } from "./user-fields";

const iso = (v: string | number | boolean) => (typeof v === "string" && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : undefined);

function col(expr: SQLWrapper, o: Partial<ScalarAttr> = {}): ScalarAttr {
  return { kind: "scalar", type: "string", expr, caseExact: false, ...o };
}

/** `meta` as every resource has it: created and lastModified from the row, a constant resourceType. */
function metaAttr(created: SQLWrapper, lastModified: SQLWrapper, resourceType: string): ComplexAttr {
  return {
    kind: "complex",
    multiValued: false,
    presence: sql`1`,
    sub: {
      created: col(created, { type: "dateTime", toStored: iso }),
      lastModified: col(lastModified, { type: "dateTime", toStored: iso }),
      resourceType: { kind: "const", type: "string", value: resourceType, caseExact: true },
    },
  };
}

function singleList(value: ScalarAttr, type: string): ComplexAttr {
  return {
    kind: "complex",
    multiValued: true,
    presence: sql`${value.expr} IS NOT NULL`,
    defaultSub: "value",
    sub: {
      value,
      type: { kind: "const", type: "string", value: type, caseExact: false },
      primary: { kind: "const", type: "boolean", value: true, caseExact: false },
    },
  };
}

/** The filter attributes of one schema ("" = core) that hold fields, shaped as in the SCIM User. */
function fieldFilterAttrs(container: string): Record<string, AttrDef> {
  const out: Record<string, AttrDef> = {};
  for (const p of SCIM_PLACEMENTS) {
    if (p.container !== container || !p.field.filter) continue;
    const leaf = fieldFilterAttr(p.field);
    if (p.listType) {
      out[p.attr] = singleList(leaf, p.listType);
    } else if (p.sub) {
      // The parent exists when its first field does (name: givenName; manager: its id).
      const parent = (out[p.attr] ??= { kind: "complex", multiValued: false, presence: sql`${leaf.expr} IS NOT NULL`, sub: {} }) as ComplexAttr;
      parent.sub[p.sub] = leaf;
      if (p.sub === "value") parent.defaultSub = "value";
    } else {
      out[p.attr] = leaf;
    }
  }
  return out;
}

/** Attribute map for SCIM `/Users` filters and sortBy. */
export function userFilterMap(attrs: AttributeSet): AttributeMap {
  const core: Record<string, AttrDef> = { id: col(users.id, { caseExact: true, ordered: true }), ...fieldFilterAttrs("") };
  if (core.name?.kind === "complex") {
    core.name.sub.formatted = col(sql`trim(coalesce(${users.firstName}, '') || ' ' || coalesce(${users.lastName}, ''))`);
  }
  core.active = col(users.active, { type: "boolean" });
  core.meta = metaAttr(users.createdAt, users.updatedAt, "User");
  const enterprise = fieldFilterAttrs(ENTERPRISE_USER);
  const tenant: Record<string, AttrDef> = {};
  for (const d of attrs.custom) {
    if (!CUSTOM_KEY_RE.test(d.key)) continue;
    // The key matches CUSTOM_KEY_RE, so it is safe inside the JSON path literal.
    const expr = sql`json_extract(${users.attributes}, ${sql.raw(`'$.${d.key}'`)})`;
    const type = d.type === "number" ? "decimal" : d.type === "boolean" ? "boolean" : "string";
    tenant[d.key] = col(expr, { type, caseExact: d.type === "enum" });
  }
  return {
    schemas: [
      { urn: CORE_USER, attributes: core },
      { urn: ENTERPRISE_USER, attributes: enterprise },
      { urn: TENANT_USER, attributes: tenant },
    ],
  };
}

/** Attribute map for SCIM `/Groups` filters and sortBy, over `collections`. */
export function groupFilterMap(): AttributeMap {
  return {
    schemas: [
      {
        urn: CORE_GROUP,
        attributes: {
          id: col(collections.id, { caseExact: true, ordered: true }),
          externalId: col(collections.externalId, { caseExact: true }),
          displayName: col(collections.name, { lowerExpr: sql`lower(${collections.name})` }),
          meta: metaAttr(collections.createdAt, collections.updatedAt, "Group"),
        },
      },
    ],
  };
}
