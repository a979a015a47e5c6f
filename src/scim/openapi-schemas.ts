/**
 * JSON Schemas for the SCIM OpenAPI document, generated from the same attribute definitions that
 * /scim/v2/Schemas serves (schema.ts, and through it users/fields.ts): a field added there shows
 * up here, with the same type, mutability, required flag and description.
 */
import { attributeSetFrom } from "../users/attributes";
import { BULK_MAX_OPERATIONS } from "./bulk";
import { MAX_COUNT } from "./list-query";
import { MAX_PATCH_OPERATIONS } from "./patch-parse";
import { BULK_REQUEST, BULK_RESPONSE, CORE_GROUP, CORE_USER, ERROR_SCHEMA, groupSchema, LIST_RESPONSE, PATCH_OP, SEARCH_REQUEST, TENANT_USER, userSchemas, type ScimAttribute, type SchemaDoc } from "./schema";

type Json = Record<string, any>;

const TYPES: Record<ScimAttribute["type"], Json> = {
  string: { type: "string" },
  boolean: { type: "boolean" },
  decimal: { type: "number" },
  integer: { type: "integer" },
  dateTime: { type: "string", format: "date-time" },
  reference: { type: "string", format: "uri-reference" },
  complex: { type: "object" },
};

/** One SCIM attribute as a JSON Schema (RFC 7643 §2: mutability becomes readOnly/writeOnly). */
export function attributeSchema(a: ScimAttribute): Json {
  let schema: Json = { ...TYPES[a.type] };
  if (a.subAttributes) schema = { ...schema, ...objectOf(a.subAttributes) };
  if (a.canonicalValues) schema.examples = a.canonicalValues;
  if (a.multiValued) schema = { type: "array", items: schema };
  schema.description = a.description;
  if (a.mutability === "readOnly") schema.readOnly = true;
  if (a.mutability === "writeOnly") schema.writeOnly = true;
  return schema;
}

/** An object of attributes; unknown members are allowed, as SCIM clients send extras. */
function objectOf(attributes: ScimAttribute[]): Json {
  const required = attributes.filter((a) => a.required && a.mutability !== "readOnly").map((a) => a.name);
  return {
    type: "object",
    properties: Object.fromEntries(attributes.map((a) => [a.name, attributeSchema(a)])),
    ...(required.length > 0 ? { required } : {}),
  };
}

const META = {
  type: "object",
  readOnly: true,
  description: "Resource metadata (RFC 7643 §3.1); `version` is the ETag.",
  properties: {
    resourceType: { type: "string", examples: ["User", "Group"] },
    created: { type: "string", format: "date-time" },
    lastModified: { type: "string", format: "date-time" },
    location: { type: "string", format: "uri" },
    version: { type: "string", examples: ['W/"3"'] },
  },
};

/** The attributes every resource has (RFC 7643 §3.1). */
const common = (schemaUrn: string) => ({
  schemas: { type: "array", items: { type: "string" }, description: `The resource's schema URNs; always includes ${schemaUrn}.`, examples: [[schemaUrn]] },
  id: { type: "string", readOnly: true, description: "Assigned by the service." },
  externalId: { type: "string", description: "The client's own identifier for the resource." },
  meta: META,
});

/** A resource schema: the core attributes at the top, each extension under its URN. */
function resourceSchema(core: SchemaDoc, extensions: SchemaDoc[], description: string): Json {
  const body = objectOf(core.attributes);
  for (const ext of extensions) {
    body.properties[ext.id] =
      ext.id === TENANT_USER
        ? { type: "object", additionalProperties: true, description: "This tenant's custom attributes, which differ per tenant: GET /Schemas/" + TENANT_USER + " lists them with their types." }
        : { ...objectOf(ext.attributes), description: ext.description };
  }
  return { type: "object", description, properties: { ...common(core.id), ...body.properties }, ...(body.required ? { required: body.required } : {}) };
}

const listResponse = (item: string) => ({
  type: "object",
  description: `A page of ${item} resources (RFC 7644 §3.4.2).`,
  required: ["schemas", "totalResults", "Resources"],
  properties: {
    schemas: { type: "array", items: { type: "string", enum: [LIST_RESPONSE] } },
    totalResults: { type: "integer", minimum: 0, description: "Matching resources in all pages." },
    itemsPerPage: { type: "integer", minimum: 0 },
    startIndex: { type: "integer", minimum: 1 },
    Resources: { type: "array", items: { $ref: `#/components/schemas/${item}` } },
  },
});

const messageSchemas = (urn: string) => ({ type: "array", items: { type: "string" }, description: `Must contain ${urn}.`, examples: [[urn]] });

/** components.schemas of the SCIM document. */
export function scimComponentSchemas(): Json {
  // Built-in attributes only: the tenant's settings (which built-ins it requires, its custom
  // attributes) are per tenant and served by /Schemas; the document is the same for every tenant.
  const [core, ...extensions] = userSchemas(attributeSetFrom([]));
  const group = groupSchema();
  return {
    User: resourceSchema(core!, extensions, "A user (RFC 7643 §4.1), with the enterprise extension (§4.3) and this tenant's custom attributes."),
    Group: resourceSchema(group, [], "A group (RFC 7643 §4.2): a collection of kind `group`, the same as /v1/groups."),
    UserListResponse: listResponse("User"),
    GroupListResponse: listResponse("Group"),
    SearchRequest: {
      type: "object",
      description: "A query in a body (RFC 7644 §3.4.3): the same parameters as a GET on the collection.",
      properties: {
        schemas: messageSchemas(SEARCH_REQUEST),
        filter: { type: "string", maxLength: 1000, description: "A SCIM filter, e.g. `userName eq \"jane\"`." },
        startIndex: { type: "integer", description: "1-based index of the first result." },
        count: { type: "integer", maximum: MAX_COUNT, description: `Results per page (at most ${MAX_COUNT}).` },
        sortBy: { type: "string" },
        sortOrder: { type: "string", enum: ["ascending", "descending"] },
        attributes: { type: "array", items: { type: "string" } },
        excludedAttributes: { type: "array", items: { type: "string" } },
      },
    },
    PatchOp: {
      type: "object",
      description: "Changes to a resource (RFC 7644 §3.5.2). `op` is case-insensitive (Entra sends `Replace`).",
      required: ["schemas", "Operations"],
      properties: {
        schemas: messageSchemas(PATCH_OP),
        Operations: {
          type: "array",
          maxItems: MAX_PATCH_OPERATIONS,
          items: {
            type: "object",
            required: ["op"],
            properties: {
              op: { type: "string", examples: ["add", "remove", "replace"] },
              path: { type: "string", description: 'An attribute path, optionally with a value filter: `members[value eq "..."]`.' },
              value: { description: "The value to add or replace with; without a path, an object of attributes." },
            },
          },
        },
      },
    },
    BulkRequest: {
      type: "object",
      description: `Up to ${BULK_MAX_OPERATIONS} operations in order (RFC 7644 §3.7); \`bulkId:<id>\` refers to a resource created earlier in the request.`,
      required: ["schemas", "Operations"],
      properties: {
        schemas: messageSchemas(BULK_REQUEST),
        failOnErrors: { type: "integer", minimum: 1, description: "Stop after this many failed operations." },
        Operations: {
          type: "array",
          maxItems: BULK_MAX_OPERATIONS,
          items: {
            type: "object",
            required: ["method", "path"],
            properties: {
              method: { type: "string", enum: ["POST", "PUT", "PATCH", "DELETE"] },
              bulkId: { type: "string" },
              version: { type: "string" },
              path: { type: "string", examples: ["/Users", "/Users/bulkId:boss"] },
              data: { type: "object", description: "The body the same request would have on its own." },
            },
          },
        },
      },
    },
    BulkResponse: {
      type: "object",
      description: "One result per operation performed, in order.",
      properties: {
        schemas: { type: "array", items: { type: "string", enum: [BULK_RESPONSE] } },
        Operations: {
          type: "array",
          items: {
            type: "object",
            properties: {
              method: { type: "string" },
              bulkId: { type: "string" },
              version: { type: "string" },
              location: { type: "string", format: "uri" },
              status: { type: "string", examples: ["201"] },
              response: { $ref: "#/components/schemas/Error" },
            },
          },
        },
      },
    },
    Error: {
      type: "object",
      description: "A SCIM error (RFC 7644 §3.12).",
      required: ["schemas", "status"],
      properties: {
        schemas: { type: "array", items: { type: "string", enum: [ERROR_SCHEMA] } },
        status: { type: "string", description: "The HTTP status, as a string.", examples: ["400"] },
        scimType: { type: "string", examples: ["invalidFilter", "uniqueness", "mutability", "invalidValue", "invalidSyntax", "invalidPath", "noTarget", "tooMany"] },
        detail: { type: "string", description: "What went wrong and how to fix it." },
      },
    },
    Discovery: {
      type: "object",
      description: `A discovery document (RFC 7643 §5-§7): the ServiceProviderConfig, a ResourceType, a Schema (e.g. ${CORE_USER}, ${CORE_GROUP}), or a ListResponse of them.`,
      required: ["schemas"],
      properties: { schemas: { type: "array", items: { type: "string" } } },
      additionalProperties: true,
    },
  };
}
