/**
 * Where each field of the field table (users/fields.ts) sits in a SCIM User, parsed once from its
 * `scim` path. The SCIM mapping both ways (users.ts), /Schemas and the filter map (schema.ts) walk
 * these placements instead of naming fields.
 */
import { FIELD_ENTRIES, type FieldName, type FieldSpec } from "../users/fields";

export interface ScimPlacement {
  name: FieldName;
  field: FieldSpec;
  /** "" for the core schema, else the extension URN. */
  container: string;
  /** The SCIM attribute (`title`, `name`, `emails`, `manager`). */
  attr: string;
  /** The sub-attribute, for complex ones (`givenName`, `value`). */
  sub?: string;
  /** For `emails[type eq "work"].value`: the one element's type; the list holds one element. */
  listType?: string;
}

const PATH_RE = /^([A-Za-z][\w]*)(?:\[type eq "(\w+)"\])?(?:\.([A-Za-z$][\w]*))?$/;

function place(name: FieldName, field: FieldSpec, path: string): ScimPlacement {
  // An extension path is `<urn>:<attr>[.sub]`; the URN is everything before the last colon.
  const split = path.startsWith("urn:") ? path.lastIndexOf(":") : -1;
  const container = split === -1 ? "" : path.slice(0, split);
  const m = PATH_RE.exec(path.slice(split + 1));
  if (!m) throw new Error(`users/fields.ts: '${path}' (${name}) is not a SCIM path this mapping supports`);
  const [, attr, listType, sub] = m;
  if (listType && sub !== "value") throw new Error(`users/fields.ts: '${path}' (${name}) must end in .value`);
  return { name, field, container, attr: attr!, ...(sub ? { sub } : {}), ...(listType ? { listType } : {}) };
}

/** Fields SCIM carries, in table order. */
export const SCIM_PLACEMENTS: readonly ScimPlacement[] = FIELD_ENTRIES.filter(([, f]) => f.scim !== null).map(([name, f]) => place(name, f, f.scim!));

/** RFC 7643 §3.1: attributes of every resource, not listed in its schema. */
export const COMMON_ATTRIBUTES = new Set(["id", "externalId", "meta"]);

/** The SCIM path a core error about a field is reported under (`emails`, `name.givenName`, `urn:...:manager`). */
export function scimErrorPath(p: ScimPlacement): string {
  const attr = p.sub && !p.listType && p.sub !== "value" ? `${p.attr}.${p.sub}` : p.attr;
  return p.container ? `${p.container}:${attr}` : attr;
}

/**
 * RFC 7643 §4.1 and §4.3 attribute order (and the order of the sub-attributes it defines), so
 * /Schemas and resources read like the RFC whatever the field table's order; unknown names last.
 */
const RFC_ORDER = [
  "userName", "name", "displayName", "nickName", "profileUrl", "title", "userType", "preferredLanguage", "locale", "timezone", "active", "password",
  "emails", "phoneNumbers", "ims", "photos", "addresses", "groups", "entitlements", "roles", "x509Certificates",
  "employeeNumber", "costCenter", "organization", "division", "department", "manager",
];
const RFC_SUB_ORDER = ["formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix", "value", "$ref", "display", "displayName", "type", "primary"];

/** Sorts attributes (or, with `sub`, sub-attributes) into RFC order; the sort is stable. */
export function byRfcOrder<T>(items: T[], nameOf: (item: T) => string, sub = false): T[] {
  const order = sub ? RFC_SUB_ORDER : RFC_ORDER;
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  return [...items].sort((a, b) => rank(nameOf(a)) - rank(nameOf(b)));
}
