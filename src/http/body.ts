/**
 * Request body guard for JSON APIs: bounded size (413), JSON media type (415) and well-formed
 * JSON (400 with the parser's position), all before any handler or validator runs.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "./errors";

export const MAX_BODY_BYTES = 1024 * 1024;

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function isJsonMediaType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

function tooLarge(): ApiError {
  return new ApiError("payload_too_large", `The request body is larger than ${MAX_BODY_BYTES} bytes (1 MiB). Send fewer records per request.`);
}

export async function readBoundedText(request: Request): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}

export const jsonBody = createMiddleware<AppEnv>(async (c, next) => {
  if (!BODY_METHODS.has(c.req.method)) return next();
  const declared = c.req.header("Content-Length");
  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
  const hasBody = c.req.raw.body !== null && declared !== "0";
  if (!hasBody) return next();
  const contentType = c.req.header("Content-Type");
  const text = await readBoundedText(c.req.raw);
  if (text.length === 0) return next();
  if (!isJsonMediaType(contentType)) {
    throw new ApiError("unsupported_media_type", `Send the body as JSON with 'Content-Type: application/json' (got '${contentType ?? "none"}').`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof SyntaxError ? err.message : "unparseable";
    throw new ApiError("invalid_json", `The request body is not valid JSON: ${reason}.`);
  }
  // Validators downstream read the already-parsed body from Hono's cache.
  c.req.bodyCache.json = Promise.resolve(parsed);
  await next();
});

/** The JSON body parsed by `jsonBody`; 400 when the request carried none. */
export async function parsedJsonBody(c: { req: { bodyCache: { json?: unknown } } }): Promise<unknown> {
  const cached = c.req.bodyCache.json;
  if (cached === undefined) {
    throw new ApiError("validation_failed", "This request needs a JSON body.", { errors: [{ path: "(body)", message: "is required" }] });
  }
  return cached;
}
