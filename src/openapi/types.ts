/**
 * The slice of an OpenAPI 3.1 document the post-processing steps read and write. Loose on
 * purpose: the generator's own type is stricter than these steps need, and the SCIM document is
 * built as plain data.
 */
export type Json = Record<string, any>;

export interface OpenApiDoc {
  openapi: string;
  info: Json;
  servers?: Json[];
  tags?: { name: string; description: string }[];
  paths: Record<string, Record<string, Json>>;
  components?: Json;
  [extra: string]: unknown;
}

export const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** Every operation of the document with its path and method. */
export function* operationsOf(doc: OpenApiDoc): Generator<{ path: string; method: string; operation: Json }> {
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation) yield { path, method, operation };
    }
  }
}
