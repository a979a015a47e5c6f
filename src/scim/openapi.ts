/**
 * The SCIM 2.0 OpenAPI document, served at /scim/v2/openapi.json on tenant hosts. Schemas come
 * from the definitions /Schemas serves (openapi-schemas.ts); the operations below mirror the
 * routes in user-routes.ts, group-routes.ts, router.ts (Bulk) and discovery.ts. The cross-cutting
 * steps (operationIds are explicit here; response headers, shared errors) are the REST document's.
 */
import { applyResponseHeaders, type HeaderRules } from "../openapi/headers";
import { applyParameters } from "../openapi/parameters";
import { shareResponses } from "../openapi/shared-responses";
import type { Json, OpenApiDoc } from "../openapi/types";
import { API_VERSION, METHOD_NOT_ALLOWED, WRITES_PAUSED } from "../openapi/document";
import { MAX_COUNT } from "./list-query";
import { scimComponentSchemas } from "./openapi-schemas";

const SCIM = "application/scim+json";

const scimBody = (schema: string, description: string) => ({ description, content: { [SCIM]: { schema: { $ref: `#/components/schemas/${schema}` } } } });
const requestBody = (schema: string, description: string) => ({
  required: true,
  description: `${description} Sent as application/scim+json or application/json.`,
  content: { [SCIM]: { schema: { $ref: `#/components/schemas/${schema}` } }, "application/json": { schema: { $ref: `#/components/schemas/${schema}` } } },
});

const ERRORS: Record<string, string> = {
  "400": "The request is not valid (`scimType` says how: invalidFilter, invalidValue, invalidSyntax, invalidPath, noTarget, mutability, tooMany).",
  "401": "Missing, malformed, unknown, disabled, expired or other-tenant token.",
  "403": "The token lacks the `scim` scope, the tenant is suspended, or a discovery endpoint was given a filter.",
  "404": "Unknown tenant host or resource.",
  "405": METHOD_NOT_ALLOWED,
  "409": "A unique attribute (userName, email, externalId, a group's displayName) is taken (`scimType: uniqueness`).",
  "412": "`If-Match` does not match the current version.",
  "413": "The body is larger than 1 MiB.",
  "415": "The body is not JSON (application/scim+json or application/json).",
  "429": "Rate limit exceeded.",
  "503": WRITES_PAUSED,
};

const READ = ["401", "403", "404", "405", "429"];
const WRITE = ["400", "401", "403", "404", "405", "409", "413", "415", "429", "503"];

function errors(codes: string[]): Json {
  return Object.fromEntries(codes.map((c) => [c, scimBody("Error", ERRORS[c]!)]));
}

const param = (name: string, description: string, schema: Json = { type: "string" }) => ({ name, in: "query", required: false, description, schema });
const PROJECTION = [
  param("attributes", "Comma-separated attributes to return (plus those always returned), e.g. `userName,name.familyName`."),
  param("excludedAttributes", "Comma-separated attributes to leave out, e.g. `groups`."),
];
const LIST = [
  param("filter", 'A SCIM filter (RFC 7644 §3.4.2.2), at most 1,000 characters, e.g. `userName eq "jane.doe@acme.com"`.', { type: "string", maxLength: 1000 }),
  param("startIndex", "1-based index of the first result; below 1 means 1.", { type: "integer", default: 1 }),
  param("count", `Results per page, at most ${MAX_COUNT}; 0 answers only totalResults.`, { type: "integer", default: 100, maximum: MAX_COUNT }),
  param("sortBy", "An attribute to sort by, e.g. `meta.lastModified`."),
  param("sortOrder", "ascending (default) or descending.", { type: "string", enum: ["ascending", "descending"] }),
  ...PROJECTION,
];
const ID = { name: "id", in: "path", required: true, description: "The resource's id.", schema: { type: "string" }, example: "0192f0c4-7d8a-7c3e-9b1a-3f4e5d6c7b8a" };
// Described once, with the REST ones, by openapi/parameters.ts.
const IF_MATCH = { name: "if-match", in: "header" };
const IF_NONE_MATCH = { name: "if-none-match", in: "header" };

function op(tag: string, operationId: string, summary: string, responses: Json, extra: Json = {}): Json {
  return { tags: [tag], operationId, summary, security: [{ bearerAuth: [] }], ...extra, responses };
}

/** The operations on one resource type (Users or Groups). */
function resourcePaths(type: "User" | "Group"): Record<string, Record<string, Json>> {
  const tag = `${type}s`;
  const collection = `/${type}s`;
  const noContent = { description: "Done; no body." };
  // Groups answer a PATCH with 204 (what Entra expects) unless attributes were asked for.
  const patched = type === "Group" ? { "200": scimBody(type, "The changed group (when `attributes` was sent)."), "204": { description: "Changed; no body (the new version is in `ETag`)." } } : { "200": scimBody(type, "The changed user.") };
  return {
    [collection]: {
      get: op(tag, `list${tag}`, `List or filter ${type.toLowerCase()}s`, { "200": scimBody(`${type}ListResponse`, "A page of results."), ...errors(["400", ...READ]) }, { parameters: LIST }),
      post: op(tag, `create${type}`, `Create a ${type.toLowerCase()}`, { "201": scimBody(type, `The created ${type.toLowerCase()}.`), ...errors(WRITE) }, { parameters: PROJECTION, requestBody: requestBody(type, `The new ${type.toLowerCase()}.`) }),
    },
    [`${collection}/.search`]: {
      post: op(tag, `search${tag}`, `Search ${type.toLowerCase()}s with a query in the body`, { "200": scimBody(`${type}ListResponse`, "A page of results."), ...errors(["400", "401", "403", "404", "405", "413", "415", "429"]) }, { requestBody: requestBody("SearchRequest", "The query.") }),
    },
    [`${collection}/{id}`]: {
      get: op(tag, `get${type}`, `Get a ${type.toLowerCase()}`, { "200": scimBody(type, `The ${type.toLowerCase()}.`), "304": { description: "Not modified." }, ...errors(["400", ...READ]) }, { parameters: [ID, IF_NONE_MATCH, ...PROJECTION] }),
      put: op(tag, `replace${type}`, `Replace a ${type.toLowerCase()}`, { "200": scimBody(type, `The replaced ${type.toLowerCase()}.`), ...errors([...WRITE, "412"]) }, { parameters: [ID, IF_MATCH, ...PROJECTION], requestBody: requestBody(type, `The whole ${type.toLowerCase()}; read-only attributes are ignored.`) }),
      patch: op(tag, `patch${type}`, `Change attributes of a ${type.toLowerCase()}`, { ...patched, ...errors([...WRITE, "412"]) }, { parameters: [ID, IF_MATCH, ...PROJECTION], requestBody: requestBody("PatchOp", "The changes.") }),
      delete: op(tag, `delete${type}`, type === "User" ? "Deactivate a user (active: false; the user stays retrievable)" : "Delete a group", { "204": noContent, ...errors(["401", "403", "404", "405", "412", "429", "503"]) }, { parameters: [ID, IF_MATCH] }),
    },
  };
}

const discovery = (operationId: string, summary: string, extra: Json = {}) => ({
  get: op("Discovery", operationId, summary, { "200": scimBody("Discovery", "The discovery document."), ...errors(READ) }, extra),
});

export const SCIM_TAGS = [
  { name: "Users", description: "SCIM Users: the same users as /v1/users, under the same rules." },
  { name: "Groups", description: "SCIM Groups: the tenant's groups (/v1/groups) and their members." },
  { name: "Bulk", description: "Several operations in one request, in order." },
  { name: "Discovery", description: "What this service provider supports (RFC 7644 §4): configuration, resource types, schemas." },
];

/** SCIM resources carry an ETag on every representation and on 304 and group PATCH 204s. */
const scimHeaderRules: HeaderRules = {
  etag(_doc, status, response, operation) {
    const ref = (response.content as Json | undefined)?.[SCIM]?.schema?.$ref as string | undefined;
    return status === "304" || (status === "204" && operation.operationId === "patchGroup") || ref === "#/components/schemas/User" || ref === "#/components/schemas/Group";
  },
};

export function buildScimDocument(): OpenApiDoc {
  const doc: OpenApiDoc = {
    openapi: "3.1.0",
    info: {
      title: "User provisioning API: SCIM 2.0",
      version: API_VERSION,
      description:
        "SCIM 2.0 (RFC 7643, RFC 7644) for identity providers (Okta, Microsoft Entra ID) on a tenant's host, with a token that has the `scim` scope. " +
        "The users are the same as in the REST API (`/openapi.json`). Bodies are application/scim+json; errors are SCIM Errors. " +
        "Queries across resource types (`GET /`, `POST /.search`) and `/Me` answer 501. Every response carries X-Request-Id.",
      license: { name: "Proprietary" },
    },
    tags: SCIM_TAGS,
    paths: {
      ...resourcePaths("User"),
      ...resourcePaths("Group"),
      "/Bulk": {
        post: op("Bulk", "processBulkRequest", "Run several operations in one request", { "200": scimBody("BulkResponse", "One result per operation performed."), ...errors(["400", "401", "403", "404", "405", "413", "415", "429", "503"]) }, { requestBody: requestBody("BulkRequest", "The operations.") }),
      },
      "/ServiceProviderConfig": discovery("getServiceProviderConfig", "What this service provider supports"),
      "/ResourceTypes": discovery("listResourceTypes", "The resource types (User, Group)"),
      "/ResourceTypes/{id}": discovery("getResourceType", "One resource type", { parameters: [{ ...ID, description: "User or Group.", example: "User" }] }),
      "/Schemas": discovery("listSchemas", "The schemas, with this tenant's custom attributes"),
      "/Schemas/{id}": discovery("getSchema", "One schema", { parameters: [{ ...ID, description: "The schema's URN.", example: "urn:ietf:params:scim:schemas:core:2.0:User" }] }),
    },
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "A tenant API token with the `scim` scope (prov_...), sent on the tenant's host." } },
      schemas: scimComponentSchemas(),
    },
  };
  applyParameters(doc);
  applyResponseHeaders(doc, scimHeaderRules);
  shareResponses(doc);
  return doc;
}
