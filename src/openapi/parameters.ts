/**
 * Request headers and path parameters with real schemas, applied by name across the document so
 * the rules live once: route contracts declare `idempotency-key` or `{id}`, and this module says
 * what each one accepts (the same bounds the handlers enforce).
 */
import { KEY_RE as IDEMPOTENCY_KEY_PATTERN } from "../rest/idempotency";
import { operationsOf, type Json, type OpenApiDoc } from "./types";

/** Shared header parameters, by the lower-case name route contracts declare them with. */
const HEADER_PARAMETERS: Record<string, { component: string; parameter: Json }> = {
  "idempotency-key": {
    component: "IdempotencyKey",
    parameter: {
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description: "Makes a retry safe: the same key with the same body within 24 hours replays the first successful answer (`Idempotent-Replayed: true`) and does nothing again; the same key with another body is 422. 1 to 255 visible ASCII characters; a UUID is a good choice.",
      schema: { type: "string", minLength: 1, maxLength: 255, pattern: IDEMPOTENCY_KEY_PATTERN.source },
      example: "5f0c6a3e-2b1d-4c8e-9a7f-1e2d3c4b5a69",
    },
  },
  "if-match": {
    component: "IfMatch",
    parameter: {
      name: "If-Match",
      in: "header",
      required: false,
      description: "Apply the change only if the current version is one of these ETags (or `*`); otherwise 412 and nothing is changed. Without it, concurrent changes are merged, never refused.",
      schema: { type: "string", maxLength: 1024 },
      example: 'W/"3"',
    },
  },
  "if-none-match": {
    component: "IfNoneMatch",
    parameter: {
      name: "If-None-Match",
      in: "header",
      required: false,
      description: "Answer 304 with no body when the current version is one of these ETags (or `*`).",
      schema: { type: "string", maxLength: 1024 },
      example: 'W/"3"',
    },
  },
};

/** Descriptions and examples for path parameters, by name; schemas (max lengths) come from the routes. */
const PATH_PARAMETERS: Record<string, { description: string; example: string }> = {
  id: { description: "The resource's id, as returned when it was created.", example: "0192f0c4-7d8a-7c3e-9b1a-3f4e5d6c7b8a" },
  deviceId: { description: "The device's id, chosen by the client that registered it.", example: "ios-4F2A9C" },
  deliveryId: { description: "The delivery's id.", example: "0192f0c4-7d8a-7c3e-9b1a-3f4e5d6c7b8b" },
  key: { description: "The attribute's key (a custom attribute's, or a built-in's name).", example: "badgeNumber" },
  slug: { description: "The tenant's slug, the first label of its host.", example: "acme" },
  hostname: { description: "A custom domain mapped to the tenant.", example: "users.acme.com" },
  ip: { description: "A blocked client IP address (IPv4 or IPv6).", example: "203.0.113.7" },
};

export function applyParameters(doc: OpenApiDoc): void {
  const used = new Set<string>();
  for (const { operation } of operationsOf(doc)) {
    operation.parameters = (operation.parameters as Json[] | undefined)?.map((p) => {
      const shared = p.in === "header" ? HEADER_PARAMETERS[String(p.name).toLowerCase()] : undefined;
      if (shared) {
        used.add(shared.component);
        return { $ref: `#/components/parameters/${shared.component}` };
      }
      const known = p.in === "path" ? PATH_PARAMETERS[p.name] : undefined;
      return known ? { ...p, description: p.description ?? known.description, example: p.example ?? known.example } : p;
    });
  }
  doc.components ??= {};
  const components = Object.values(HEADER_PARAMETERS).filter((h) => used.has(h.component));
  doc.components.parameters = { ...doc.components.parameters, ...Object.fromEntries(components.map((h) => [h.component, h.parameter])) };
}
