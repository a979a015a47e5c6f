/**
 * The SCIM User schemas as data (RFC 7643 §7). One definition serves discovery (/Schemas), request
 * validation (types, mutability, required), response shaping (returned) and the filter compiler's
 * attribute map, so what /Schemas says is what the endpoint does.
 */
import { sql, type SQLWrapper } from "drizzle-orm";
import { collections, effectiveDisplayNameLower, users } from "../db/schema";
import type { AttrDef, AttributeMap, ComplexAttr, ScalarAttr } from "../filter/compile";
import type { AttributeDefinition, AttributeSet } from "../users/attributes";
import { CUSTOM_KEY_RE } from "../users/attributes";

export const CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User";
export const ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/** The tenant's custom attributes. Not an IETF URN: the attributes differ per tenant. */
export const TENANT_USER = "urn:provisioning:params:scim:schemas:extension:tenant:2.0:User";
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

/** Core User attributes this service stores (RFC 7643 §4.1), with their column in users. */
export const CORE_USER_ATTRIBUTES: ScimAttribute[] = [
  attr("userName", "string", "Unique identifier for the user, typically the sign-in name. Unique per tenant ignoring case; defaults to the primary email for users created over REST.", {
    required: true,
    uniqueness: "server",
  }),
  attr("name", "complex", "The user's name. givenName and familyName are required by this service.", {
    required: true,
    subAttributes: [
      attr("formatted", "string", "givenName followed by familyName; computed by the service.", { mutability: "readOnly" }),
      attr("familyName", "string", "Family name (REST lastName).", { required: true }),
      attr("givenName", "string", "Given name (REST firstName).", { required: true }),
    ],
  }),
  attr("displayName", "string", "Name for display; defaults to givenName familyName."),
  attr("title", "string", "Job title."),
  attr("userType", "string", "Free text, e.g. Employee or Contractor."),
  attr("locale", "string", "BCP 47 language tag, e.g. en-US."),
  attr("timezone", "string", "IANA time zone, e.g. America/Los_Angeles."),
  attr("active", "boolean", "false deactivates the user; the user stays retrievable."),
  attr("password", "string", "Accepted for compatibility and discarded: this service does not hold passwords.", {
    mutability: "writeOnly",
    returned: "never",
    caseExact: true,
  }),
  attr("emails", "complex", "The user's email; one per user, unique per tenant ignoring case.", {
    multiValued: true,
    required: true,
    subAttributes: singleValueList("email address", true),
  }),
  attr("phoneNumbers", "complex", "The user's phone number; one per user.", {
    multiValued: true,
    subAttributes: singleValueList("phone number", false),
  }),
];

export const ENTERPRISE_USER_ATTRIBUTES: ScimAttribute[] = [
  attr("employeeNumber", "string", "Employee number."),
  attr("costCenter", "string", "Cost center."),
  attr("organization", "string", "Organization."),
  attr("division", "string", "Division."),
  attr("department", "string", "Department."),
  attr("manager", "complex", "The user's manager: another user of this tenant.", {
    subAttributes: [
      attr("value", "string", "The id of the manager.", { caseExact: true }),
      attr("$ref", "reference", "URI of the manager's User resource.", { referenceTypes: ["User"], mutability: "readOnly", caseExact: true }),
      attr("displayName", "string", "The manager's display name.", { mutability: "readOnly" }),
    ],
  }),
];

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

export interface SchemaDoc {
  id: string;
  name: string;
  description: string;
  attributes: ScimAttribute[];
}

export function userSchemas(attrs: AttributeSet): SchemaDoc[] {
  return [
    { id: CORE_USER, name: "User", description: "User Account", attributes: CORE_USER_ATTRIBUTES },
    { id: ENTERPRISE_USER, name: "EnterpriseUser", description: "Enterprise User", attributes: ENTERPRISE_USER_ATTRIBUTES },
    { id: TENANT_USER, name: "TenantUser", description: "This tenant's custom user attributes", attributes: tenantUserAttributes(attrs) },
  ];
}

// ---- Filter attribute map: SCIM names -> columns of `users` (uses the indexes in schema.ts) ----

const iso = (v: string | number | boolean) => (typeof v === "string" && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : undefined);

function col(expr: SQLWrapper, o: Partial<ScalarAttr> = {}): ScalarAttr {
  return { kind: "scalar", type: "string", expr, caseExact: false, ...o };
}

function singleList(value: ScalarAttr): ComplexAttr {
  return {
    kind: "complex",
    multiValued: true,
    presence: sql`${value.expr} IS NOT NULL`,
    defaultSub: "value",
    sub: {
      value,
      type: { kind: "const", type: "string", value: "work", caseExact: false },
      primary: { kind: "const", type: "boolean", value: true, caseExact: false },
    },
  };
}

/** Attribute map for SCIM `/Users` filters and sortBy. */
export function userFilterMap(attrs: AttributeSet): AttributeMap {
  const core: Record<string, AttrDef> = {
    id: col(users.id, { caseExact: true, ordered: true }),
    externalId: col(users.externalId, { caseExact: true }),
    // The effective userName (userName, else email), lower-cased and uniquely indexed.
    userName: col(sql`coalesce(${users.userName}, ${users.email})`, { lowerExpr: users.userNameLower }),
    displayName: col(sql`coalesce(${users.displayName}, trim(coalesce(${users.firstName}, '') || ' ' || coalesce(${users.lastName}, '')))`, {
      lowerExpr: effectiveDisplayNameLower,
    }),
    name: {
      kind: "complex",
      multiValued: false,
      presence: sql`${users.firstName} IS NOT NULL`,
      sub: {
        givenName: col(users.firstName, { lowerExpr: sql`lower(${users.firstName})` }),
        familyName: col(users.lastName, { lowerExpr: sql`lower(${users.lastName})` }),
        formatted: col(sql`trim(coalesce(${users.firstName}, '') || ' ' || coalesce(${users.lastName}, ''))`),
      },
    },
    title: col(users.title),
    userType: col(users.userType),
    locale: col(users.locale),
    timezone: col(users.timezone),
    active: col(users.active, { type: "boolean" }),
    emails: singleList(col(users.email, { lowerExpr: users.emailLower })),
    phoneNumbers: singleList(col(users.phone)),
    meta: {
      kind: "complex",
      multiValued: false,
      presence: sql`1`,
      sub: {
        created: col(users.createdAt, { type: "dateTime", toStored: iso }),
        lastModified: col(users.updatedAt, { type: "dateTime", toStored: iso }),
        resourceType: { kind: "const", type: "string", value: "User", caseExact: true },
      },
    },
  };
  const enterprise: Record<string, AttrDef> = {
    employeeNumber: col(users.employeeNumber),
    costCenter: col(users.costCenter),
    organization: col(users.organization),
    division: col(users.division),
    department: col(users.department),
    manager: {
      kind: "complex",
      multiValued: false,
      presence: sql`${users.managerId} IS NOT NULL`,
      defaultSub: "value",
      sub: { value: col(users.managerId, { caseExact: true, ordered: false }) },
    },
  };
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
          meta: {
            kind: "complex",
            multiValued: false,
            presence: sql`1`,
            sub: {
              created: col(collections.createdAt, { type: "dateTime", toStored: iso }),
              lastModified: col(collections.updatedAt, { type: "dateTime", toStored: iso }),
              resourceType: { kind: "const", type: "string", value: "Group", caseExact: true },
            },
          },
        },
      },
    ],
  };
}
