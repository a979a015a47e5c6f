/**
 * The REST document (/openapi.json): what @hono/zod-openapi generates from the route contracts,
 * plus the steps that apply across every route (XML media types, shared parameters, responses
 * every operation can get, operationIds, tags, response headers). Each step is one module, so a
 * rule is written once and a new route is covered without edits here.
 */
import { withXmlAlternatives, XML_MAPPING_DESCRIPTION } from "../http/xml";
import { applyResponseHeaders, type HeaderRules } from "./headers";
import { applyOperationIds } from "./operation-ids";
import { applyParameters } from "./parameters";
import { shareResponses } from "./shared-responses";
import { applyTags } from "./tags";
import { operationsOf, type Json, type OpenApiDoc } from "./types";

export const API_VERSION = "1.0.0";

export const REST_INFO = {
  title: "User provisioning API",
  version: API_VERSION,
  description:
    "Multi-tenant user provisioning. The host decides the tenant: https://<slug>.<base-domain> or a mapped custom domain; " +
    "the platform API (`/platform`) answers on the apex host only. " +
    "Errors are RFC 9457 problem+json with a stable `code`. Every response carries X-Request-Id. " +
    "The SCIM 2.0 API has its own document at `/scim/v2/openapi.json` on a tenant's host.\n\n" +
    XML_MAPPING_DESCRIPTION,
  license: { name: "Proprietary" },
};

/** Answers every operation of a kind can get (see addCommonResponses); the SCIM document uses them too. */
export const METHOD_NOT_ALLOWED = "This path does not have the method that was sent; `Allow` lists the ones it has.";
export const WRITES_PAUSED = "The tenant is moving to another database and writes are paused for seconds: retry after `Retry-After`.";

const problemContent = { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } };

/** Responses any operation of a kind can get, whatever its route says (see each comment). */
function addCommonResponses(doc: OpenApiDoc): void {
  for (const { path, method, operation } of operationsOf(doc)) {
    const responses = operation.responses as Json;
    // methodGuard (http/methods.ts) answers any method a path does not have, before any handler.
    responses["405"] ??= { description: METHOD_NOT_ALLOWED, content: problemContent };
    // A tenant's writes pause for seconds while it moves between shards (shards/fence.ts); reads
    // and searches never write, and the platform database is never fenced.
    const writes = method !== "get" && method !== "head" && !path.startsWith("/platform/") && !/\/search$/.test(path);
    if (writes) responses["503"] ??= { description: WRITES_PAUSED, content: problemContent };
  }
}

const USER = "#/components/schemas/User";

/**
 * REST: a response that is (or may be) a single user's representation carries its ETag, and so
 * does a 304; a deactivation answers the user (ETag), an erasure its receipt (none).
 */
const restHeaderRules: HeaderRules = {
  etag(_doc, status, response) {
    if (status === "304") return true;
    const schema = (response.content as Json | undefined)?.["application/json"]?.schema as Json | undefined;
    return schema?.$ref === USER || (schema?.anyOf as Json[] | undefined)?.some((s) => s.$ref === USER) === true;
  },
};

/** Finishes the generated document; `servers` is added per request (it names the request's host). */
export function finishRestDocument(generated: OpenApiDoc): OpenApiDoc {
  const doc = generated;
  addCommonResponses(doc);
  withXmlAlternatives(doc);
  applyParameters(doc);
  applyOperationIds(doc);
  applyTags(doc);
  applyResponseHeaders(doc, restHeaderRules);
  shareResponses(doc);
  return doc;
}
