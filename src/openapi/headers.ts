/**
 * Response headers, documented in one place from what each response is rather than route by
 * route: the middleware that sends a header (request id, rate limits, auth, methods) knows nothing
 * of routes either. Each rule below mirrors the code that sends the header; test/openapi.test.ts
 * checks a sample of real responses against what the document promises.
 *
 * `required: true` means every such response carries the header; the others say when they are sent.
 */
import { SECRET_REPLAY_NOTE } from "../rest/idempotency";
import { operationsOf, type Json, type OpenApiDoc } from "./types";

const text = (description: string, schema: Json = { type: "string" }, required = false) => ({ description, required, schema });

export const RESPONSE_HEADERS: Record<string, Json> = {
  XRequestId: text("Identifies this request in logs and support tickets (`hono/request-id`): the client's own `X-Request-Id` when it sent one of at most 128 characters, else a fresh UUID.", { type: "string", maxLength: 128, example: "0192f0c4-7d8a-7c3e-9b1a-3f4e5d6c7b8a" }, true),
  RateLimitPolicy: text('The tightest limit that applies (draft-ietf-httpapi-ratelimit-headers): `"ip"` (per client IP) or `"tenant"`, `q` requests per `w` seconds. Sent whenever the rate limiter answered: always on 429, absent on unknown-host 404s, on suspended-tenant 403s and if the limiter is switched off or failed open.', { type: "string", example: '"tenant";q=50;w=1' }),
  RateLimit: text('What is left of that limit: `r` requests remaining, `t` seconds until the window resets. Sent with RateLimit-Policy.', { type: "string", example: '"tenant";r=49;t=1' }),
  XRateLimitLimit: text("Requests allowed per second by the tightest limit (GitHub style). Sent with RateLimit-Policy.", { type: "integer", minimum: 1, example: 50 }),
  XRateLimitRemaining: text("Requests left in the current second. Sent with RateLimit-Policy.", { type: "integer", minimum: 0, example: 49 }),
  XRateLimitReset: text("When the window resets, in Unix seconds. Sent with RateLimit-Policy.", { type: "integer", minimum: 0, example: 1767225600 }),
  RetryAfter: text("Seconds to wait before retrying.", { type: "integer", minimum: 0, example: 1 }, true),
  WWWAuthenticate: text("The bearer challenge (RFC 6750), with `error` and a short `error_description` when a token was sent.", { type: "string", example: 'Bearer realm="api", error="invalid_token", error_description="This API token does not exist."' }, true),
  Allow: text("The methods this path has.", { type: "string", example: "GET, HEAD, OPTIONS, POST" }, true),
  Location: text("Where the created resource lives.", { type: "string", format: "uri-reference", example: "/v1/users/0192f0c4-7d8a-7c3e-9b1a-3f4e5d6c7b8a" }, true),
  ETag: text('The representation\'s version, `W/"<version>"`; send it back in `If-Match` (writes) or `If-None-Match` (reads). Sent with every representation of a single user or SCIM resource.', { type: "string", example: 'W/"3"' }),
  IdempotentReplayed: text("`true` when this is the stored answer to an earlier request with the same `Idempotency-Key` and body; nothing was done again. Absent on first answers.", { type: "string", enum: ["true"] }),
  Link: text('RFC 8288 link to the next page, `<url>; rel="next"`. Sent exactly when there is a next page (`nextCursor` is not null).', { type: "string", example: '</v1/users?limit=100&cursor=eyJ2IjoxfQ>; rel="next"' }),
};

const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });
const RATE_LIMIT = ["RateLimitPolicy", "RateLimit", "XRateLimitLimit", "XRateLimitRemaining", "XRateLimitReset"];
const HEADER_NAMES: Record<string, string> = {
  XRequestId: "X-Request-Id",
  RateLimitPolicy: "RateLimit-Policy",
  RateLimit: "RateLimit",
  XRateLimitLimit: "X-RateLimit-Limit",
  XRateLimitRemaining: "X-RateLimit-Remaining",
  XRateLimitReset: "X-RateLimit-Reset",
  RetryAfter: "Retry-After",
  WWWAuthenticate: "WWW-Authenticate",
  Allow: "Allow",
  Location: "Location",
  ETag: "ETag",
  IdempotentReplayed: "Idempotent-Replayed",
  Link: "Link",
};

/** The schema of a response's body, following one `$ref` into components. */
function resolved(doc: OpenApiDoc, schema: Json | undefined): Json | undefined {
  const name = typeof schema?.$ref === "string" ? schema.$ref.split("/").pop() : undefined;
  return name ? doc.components?.schemas?.[name] : schema;
}

function bodySchema(doc: OpenApiDoc, response: Json): Json | undefined {
  const content = response.content as Json | undefined;
  const media = content && Object.keys(content).find((m) => m.endsWith("json"));
  return resolved(doc, media ? (content![media].schema as Json | undefined) : undefined);
}

/** A page of a list: `nextCursor` in the body or in its `pagination` member (src/http/paging.ts). */
function isPage(doc: OpenApiDoc, body: Json | undefined): boolean {
  const hasCursor = (schema: Json | undefined): boolean =>
    Boolean(schema?.properties?.nextCursor) || ((schema?.allOf as Json[] | undefined) ?? []).some((part) => hasCursor(resolved(doc, part)));
  return hasCursor(body) || hasCursor(resolved(doc, body?.properties?.pagination));
}

export interface HeaderRules {
  /** Does this response carry an ETag? (Single-resource representations, per document.) */
  etag(doc: OpenApiDoc, status: string, response: Json, operation: Json): boolean;
}

/** Which headers (component names) a response of `operation` with `status` sends. */
function headersFor(doc: OpenApiDoc, operation: Json, status: string, response: Json, rules: HeaderRules): string[] {
  const names = ["XRequestId", ...RATE_LIMIT];
  if (status === "429" || status === "503" || status === "423") names.push("RetryAfter");
  if (status === "401") names.push("WWWAuthenticate");
  if (status === "405") names.push("Allow");
  if (status === "201") names.push("Location");
  if (rules.etag(doc, status, response, operation)) names.push("ETag");
  const takesKey = (operation.parameters as Json[] | undefined)?.some((p) => p.$ref === "#/components/parameters/IdempotencyKey");
  // A response holding a fresh secret is never replayed (409 secret_not_replayed instead).
  const replayable = !String(operation.description ?? "").includes(SECRET_REPLAY_NOTE);
  if (takesKey && replayable && status.startsWith("2")) names.push("IdempotentReplayed");
  if (status === "200" && isPage(doc, bodySchema(doc, response))) names.push("Link");
  return names;
}

/** Documents every response's headers with `$ref`s to components.headers. */
export function applyResponseHeaders(doc: OpenApiDoc, rules: HeaderRules): void {
  const used = new Set<string>();
  for (const { operation } of operationsOf(doc)) {
    for (const [status, response] of Object.entries(operation.responses as Json)) {
      const names = headersFor(doc, operation, status, response, rules);
      for (const n of names) used.add(n);
      // A fresh object: the generator may share one response object between operations.
      operation.responses[status] = { ...response, headers: { ...response.headers, ...Object.fromEntries(names.map((n) => [HEADER_NAMES[n], ref(n)])) } };
    }
  }
  doc.components ??= {};
  doc.components.headers = { ...doc.components.headers, ...Object.fromEntries(Object.entries(RESPONSE_HEADERS).filter(([n]) => used.has(n))) };
}

/** The header components and wire names, for tests that compare the document with real responses. */
export const HEADER_WIRE_NAMES = HEADER_NAMES;
