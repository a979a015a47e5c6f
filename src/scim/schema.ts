/**
 * The SCIM User schemas as data (RFC 7643 §7). One definition serves discovery (/Schemas), request
 * validation (types, mutability, required) and response shaping (returned), so what /Schemas says
 * is what the endpoint does. The filter attribute maps over the same names are in filter-maps.ts.
 */
import type { AttributeDefinition, AttributeSet } from "../users/attributes";
import { byRfcOrder, COMMON_ATTRIBUTES, SCIM_PLACEMENTS, type ScimPlacement } from "./user-fields";

export const CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User";
export const ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/** The tenant's custom attributes. Not an IETF URN: the attributes differ per tenant. */
export const TENANT_USER = "urn:provisioning:params:scim:schemas:extension:tenant:2.0:User";
/**
 * This service's own User extension (scim/user-folders.ts): the folders a user may access, and the
 * read-only account facts the REST user shows. Apart from TENANT_USER, whose attribute names are
 * the tenant's to choose (a custom attribute may be called `folders`). In the
 * `urn:ietf:params:scim:schemas:extension:<name>:2.0:User` form that Entra's attribute editor expects.
 */
export const PROVISIONING_USER = "urn:ietf:params:scim:schemas:extension:provisioning:2.0:User";
export const LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
export const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";
export const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
export const SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
export const BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
export const BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

export type ScimType = "string" | "boolean" | "decimal" | "integer" | "dateTime" | "reference" | "complex";

export interface ScimAttribute {
  name: string;
  type: ScimType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: "readOnly" | "readWrite" | "immutable" | "writeOnly";
  returned: "always" | "never" | "default" | "request";
  uniqueness: "none" | "server" | "global";
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: ScimAttribute[];
}

type Opts = Partial<Omit<ScimAttribute, "name" | "type" | "description">>;

function attr(name: string, type: ScimType, description: string, o: Opts = {}): ScimAttribute {
  return {
    name,
    type,
    multiValued: o.multiValued ?? false,
    description,
    required: o.required ?? false,
    caseExact: o.caseExact ?? false,
    mutability: o.mutability ?? "readWrite",
    returned: o.returned ?? "default",
    uniqueness: o.uniqueness ?? "none",
    ...(o.canonicalValues ? { canonicalValues: o.canonicalValues } : {}),
    ...(o.referenceTypes ? { referenceTypes: o.referenceTypes } : {}),
    ...(o.subAttributes ? { subAttributes: o.subAttributes } : {}),
  };
}

const TYPES = ["work"];

function singleValueList(what: string, required: boolean): ScimAttribute[] {
  return [
    attr("value", "string", `The ${what}.`, { required }),
    attr("type", "string", `Always "work": this service keeps one ${what} per user; other types are stored as it.`, { canonicalValues: TYPES }),
    attr("primary", "boolean", `Always true: the one ${what}.`),
  ];
}

/** SCIM's own structure around the fields: complex parents and the read-only sub-attributes RFC 7643 gives them. */
const COMPLEX_PARENTS: Record<string, { description: string; readOnly: ScimAttribute[] }> = {
  name: {
    description: "The user's name. givenName and familyName are required by this service.",
    readOnly: [attr("formatted", "string", "givenName followed by familyName; computed by the service.", { mutability: "readOnly" })],
  },
  manager: {
    description: "The user's manager: another user of this tenant.",
    readOnly: [
      attr("$ref", "reference", "URI of the manager's User resource.", { referenceTypes: ["User"], mutability: "readOnly", caseExact: true }),
      attr("displayName", "string", "The manager's display name.", { mutability: "readOnly" }),
    ],
  },
};

for (const p of SCIM_PLACEMENTS) {
  if (p.container !== "" && p.container !== ENTERPRISE_USER) throw new Error(`users/fields.ts: ${p.name} names the schema ${p.container}, which /Users does not have`);
}

/** Required over SCIM: always-required fields, those the tenant requires, and userName (RFC 7643 §4.1.1). */
function requiredOverScim(p: ScimPlacement, attrs?: AttributeSet): boolean {
  return p.field.alwaysRequired || attrs?.builtIn(p.name)?.required === true || (p.container === "" && p.attr === "userName");
}

/** The field's description, naming the REST field where SCIM calls it something else. */
function describe(p: ScimPlacement): string {
  const scimName = p.sub && p.sub !== "value" ? p.sub : p.attr;
  return scimName === p.name ? p.field.description : `${p.field.description.replace(/\.$/, "")} (REST ${p.name}).`;
}

/** The attributes of one schema ("" = core) that hold fields, from the field table. */
function fieldAttributes(container: string, attrs?: AttributeSet): ScimAttribute[] {
  const out = new Map<string, ScimAttribute>();
  for (const p of SCIM_PLACEMENTS) {
    if (p.container !== container || COMMON_ATTRIBUTES.has(p.attr)) continue;
    const f = p.field;
    const required = requiredOverScim(p, attrs);
    if (p.listType) {
      out.set(p.attr, attr(p.attr, "complex", describe(p), { multiValued: true, required, subAttributes: singleValueList(f.label.toLowerCase(), required) }));
    } else if (p.sub) {
      const known = COMPLEX_PARENTS[p.attr];
      const parent = out.get(p.attr) ?? attr(p.attr, "complex", known?.description ?? describe(p), { subAttributes: [...(known?.readOnly ?? [])] });
      const description = p.sub === "value" && f.references ? `The id of the ${f.label.toLowerCase()}.` : describe(p);
      parent.subAttributes = byRfcOrder([...parent.subAttributes!, attr(p.sub, "string", description, { required, caseExact: f.caseExact === true })], (a) => a.name, true);
      parent.required ||= required;
      out.set(p.attr, parent);
    } else {
      out.set(p.attr, attr(p.attr, "string", describe(p), { required, caseExact: f.caseExact === true, uniqueness: f.unique ? "server" : "none" }));
    }
  }
  return [...out.values()];
}

/** Core User attributes this service keeps (RFC 7643 §4.1): the fields, plus active and password. */
export function coreUserAttributes(attrs?: AttributeSet): ScimAttribute[] {
  return byRfcOrder(
    [
      ...fieldAttributes("", attrs),
      attr("active", "boolean", "false deactivates the user; the user stays retrievable."),
      attr("password", "string", "The sign-in password (REST password): 12 to 256 characters, not the email; stored only as a PBKDF2 hash, never returned. Absent on PUT keeps the current one.", { mutability: "writeOnly", returned: "never", caseExact: true }),
    ],
    (a) => a.name,
  );
}

/** Enterprise User attributes (RFC 7643 §4.3), from the field table. */
export function enterpriseUserAttributes(attrs?: AttributeSet): ScimAttribute[] {
  return byRfcOrder(fieldAttributes(ENTERPRISE_USER, attrs), (a) => a.name);
}

const CUSTOM_TYPE: Record<AttributeDefinition["type"], ScimType> = {
  string: "string",
  email: "string",
  enum: "string",
  date: "string",
  number: "decimal",
  boolean: "boolean",
};

export function tenantUserAttributes(attrs: AttributeSet): ScimAttribute[] {
  return attrs.custom.map((d) => {
    const hint = d.type === "date" ? " Format YYYY-MM-DD." : d.type === "email" ? " An email address." : "";
    return attr(d.key, CUSTOM_TYPE[d.type], `${d.label}.${d.description ? ` ${d.description}` : ""}${hint}`, {
      required: d.required,
      caseExact: d.type === "enum",
      ...(d.enumValues ? { canonicalValues: d.enumValues } : {}),
    });
  });
}

/** The service extension's attributes (PROVISIONING_USER); the same for every tenant. */
export function provisioningUserAttributes(): ScimAttribute[] {
  return [
    attr(
      "folders",
      "complex",
      "The folders the user may access (REST `folders`; GET /v1/folders lists them). Setting the list replaces the user's manually assigned folders; " +
        "folders an audience rule grants stay while the rule matches. Applied asynchronously, as over REST. Absent on PUT keeps them; an empty list removes them.",
      {
        multiValued: true,
        subAttributes: [
          attr("value", "string", "The id of one of this tenant's folders.", { required: true, caseExact: true }),
          attr("display", "string", "The folder's name.", { mutability: "readOnly" }),
        ],
      },
    ),
    attr("lastActivityAt", "dateTime", "Last activity on the platform (REST lastActivityAt), recorded at most once a minute.", { mutability: "readOnly" }),
    attr("lockedUntil", "dateTime", "Password checks are refused until then (REST lockedUntil); shown only while it is in the future.", { mutability: "readOnly" }),
  ];
}

export interface SchemaDoc {
  id: string;
  name: string;
  description: string;
  attributes: ScimAttribute[];
}

export function userSchemas(attrs: AttributeSet): SchemaDoc[] {
  return [
    { id: CORE_USER, name: "User", description: "User Account", attributes: coreUserAttributes(attrs) },
    { id: ENTERPRISE_USER, name: "EnterpriseUser", description: "Enterprise User", attributes: enterpriseUserAttributes(attrs) },
    { id: TENANT_USER, name: "TenantUser", description: "This tenant's custom user attributes", attributes: tenantUserAttributes(attrs) },
    { id: PROVISIONING_USER, name: "ProvisioningUser", description: "What this service keeps about a user beyond the standard schemas", attributes: provisioningUserAttributes() },
  ];
}

// ---- Groups (RFC 7643 §4.2, §8.7.1): collections of kind `group` ----

export const CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";

export const GROUP_ATTRIBUTES: ScimAttribute[] = [
  attr("displayName", "string", "The group's name. Unique among this tenant's groups (compared exactly; filters compare ignoring case).", {
    required: true,
    uniqueness: "server",
  }),
  attr("members", "complex", "The users in the group (the group's current memberships, the same as /v1/groups/{id}/members). Nested groups are not supported.", {
    multiValued: true,
    subAttributes: [
      attr("value", "string", "The id of a user of this tenant.", { mutability: "immutable", caseExact: true }),
      attr("$ref", "reference", "URI of the member's User resource.", { mutability: "immutable", referenceTypes: ["User"], caseExact: true }),
      attr("display", "string", "The member's display name.", { mutability: "readOnly" }),
      attr("type", "string", "Always \"User\".", { mutability: "immutable", canonicalValues: ["User"] }),
    ],
  }),
];

export function groupSchema(): SchemaDoc {
  return { id: CORE_GROUP, name: "Group", description: "Group", attributes: GROUP_ATTRIBUTES };
}
