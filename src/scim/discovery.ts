/**
 * SCIM discovery (RFC 7644 §4): /ServiceProviderConfig, /ResourceTypes and /Schemas. Static
 * documents except /Schemas, which describes the tenant's custom attributes. None take a filter.
 */
import { Hono, type Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "../http/errors";
import { loadAttributeSet } from "../users/attributes";
import { BULK_MAX_OPERATIONS, BULK_MAX_PAYLOAD } from "./bulk";
import { baseUrlOf, query, scimJson } from "./http";
import { MAX_COUNT } from "./list-query";
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER, groupSchema, LIST_RESPONSE, TENANT_USER, userSchemas } from "./schema";
import { coreContext } from "./user-ops";

export const discoveryRoutes = new Hono<AppEnv>();

const noFilter = createMiddleware<AppEnv>(async (c, next) => {
  if (query(c, "filter") !== undefined) throw new ApiError("forbidden", "Discovery endpoints do not take a filter (RFC 7644 §4).");
  await next();
});

discoveryRoutes.use("/ServiceProviderConfig", noFilter);
discoveryRoutes.use("/ResourceTypes", noFilter);
discoveryRoutes.use("/ResourceTypes/*", noFilter);
discoveryRoutes.use("/Schemas", noFilter);
discoveryRoutes.use("/Schemas/*", noFilter);

discoveryRoutes.get("/ServiceProviderConfig", (c) => {
  const base = baseUrlOf(c);
  return scimJson(c, {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    documentationUri: `${new URL(c.req.url).origin}/docs`,
    patch: { supported: true },
    bulk: { supported: true, maxOperations: BULK_MAX_OPERATIONS, maxPayloadSize: BULK_MAX_PAYLOAD },
    filter: { supported: true, maxResults: MAX_COUNT },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: "oauthbearertoken",
        name: "Bearer token",
        description: "A tenant API token with the 'scim' scope, sent as 'Authorization: Bearer <token>'.",
        primary: true,
      },
    ],
    meta: { resourceType: "ServiceProviderConfig", location: `${base}/ServiceProviderConfig` },
  });
});

/** A ResourceType document (RFC 7643 §6). */
function resourceType(base: string, id: "User" | "Group", description: string, schema: string, extensions: string[]) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
    id,
    name: id,
    endpoint: `/${id}s`,
    description,
    schema,
    schemaExtensions: extensions.map((urn) => ({ schema: urn, required: false })),
    meta: { resourceType: "ResourceType", location: `${base}/ResourceTypes/${id}` },
  };
}

const userResourceType = (base: string) => resourceType(base, "User", "User Account", CORE_USER, [ENTERPRISE_USER, TENANT_USER]);
const groupResourceType = (base: string) => resourceType(base, "Group", "Group", CORE_GROUP, []);

discoveryRoutes.get("/ResourceTypes", (c) => {
  const base = baseUrlOf(c);
  const list = [userResourceType(base), groupResourceType(base)];
  return scimJson(c, { schemas: [LIST_RESPONSE], totalResults: list.length, itemsPerPage: list.length, startIndex: 1, Resources: list });
});

discoveryRoutes.get("/ResourceTypes/:id", (c) => {
  const id = c.req.param("id").toLowerCase();
  if (id === "user") return scimJson(c, userResourceType(baseUrlOf(c)));
  if (id === "group") return scimJson(c, groupResourceType(baseUrlOf(c)));
  throw new ApiError("not_found", `No resource type '${c.req.param("id")}'. This endpoint has: User, Group.`);
});

async function schemaDocs(c: Context<AppEnv>) {
  const ctx = coreContext(c);
  const attrs = await loadAttributeSet(ctx.db, ctx.tenantId);
  const base = baseUrlOf(c);
  return [...userSchemas(attrs), groupSchema()].map((s) => ({
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
    ...s,
    meta: { resourceType: "Schema", location: `${base}/Schemas/${s.id}` },
  }));
}

discoveryRoutes.get("/Schemas", async (c) => {
  const docs = await schemaDocs(c);
  return scimJson(c, { schemas: [LIST_RESPONSE], totalResults: docs.length, itemsPerPage: docs.length, startIndex: 1, Resources: docs });
});

discoveryRoutes.get("/Schemas/:id", async (c) => {
  // Already percent-decoded by Hono: decoding again turned `%25E0` into a URIError (a 500).
  const id = c.req.param("id");
  const doc = (await schemaDocs(c)).find((s) => s.id.toLowerCase() === id.toLowerCase());
  if (!doc) throw new ApiError("not_found", `No schema '${id}'. This endpoint has: ${[CORE_USER, ENTERPRISE_USER, TENANT_USER, CORE_GROUP].join(", ")}.`);
  return scimJson(c, doc);
});
