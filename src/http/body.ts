/**
 * Request body guard: bounded size (413), a JSON or XML media type (415) and a well-formed
 * document (400 with the parser's reason), all before any handler or validator runs. XML bodies
 * are turned into the JSON value they stand for (see xml.ts), so one set of validators serves both.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "./errors";
import { fromXml, isXmlMediaType } from "./xml";

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

/** Guards bodies of JSON-only endpoints (/platform). */
export const jsonBody = bodyGuard({ xml: false });
/** Guards bodies of endpoints that also take XML (/v1). */
export const jsonOrXmlBody = bodyGuard({ xml: true });

function bodyGuard(options: { xml: boolean }) {
  return createMiddleware<AppEnv>(async (c, next) => {
  if (!BODY_METHODS.has(c.req.method)) return next();
  const declared = c.req.header("Content-Length");
  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
  const hasBody = c.req.raw.body !== null && declared !== "0";
  if (!hasBody) return next();
  const contentType = c.req.header("Content-Type");
  const text = await readBoundedText(c.req.raw);
  if (text.length === 0) return next();
  let parsed: unknown;
  if (options.xml && isXmlMediaType(contentType)) {
    parsed = fromXml(text);
    // Downstream validators only read JSON requests: hand them the same document as JSON.
    const headers = new Headers(c.req.raw.headers);
    headers.set("Content-Type", "application/json");
    c.req.raw = new Request(c.req.raw.url, { method: c.req.method, headers, body: JSON.stringify(parsed) });
  } else if (isJsonMediaType(contentType)) {
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      const reason = err instanceof SyntaxError ? err.message : "unparseable";
      throw new ApiError("invalid_json", `The request body is not valid JSON: ${reason}.`);
    }
  } else {
    const accepted = options.xml ? "'Content-Type: application/json' or 'application/xml'" : "'Content-Type: application/json'";
    throw new ApiError("unsupported_media_type", `Send the body with ${accepted} (got '${contentType ?? "none"}').`);
  }
  // Validators downstream read the already-parsed body from Hono's cache.
  c.req.bodyCache.json = Promise.resolve(parsed);
  await next();
  });
}

/** The JSON body parsed by `jsonBody`; 400 when the request carried none. */
export async function parsedJsonBody(c: { req: { bodyCache: { json?: unknown } } }): Promise<unknown> {
  const cached = c.req.bodyCache.json;
  if (cached === undefined) {
    throw new ApiError("validation_failed", "This request needs a JSON body.", { errors: [{ path: "(body)", message: "is required" }] });
  }
  return cached;
}
