/**
 * Request body guard: bounded size (413), an identity-encoded UTF-8 JSON or XML media type (415),
 * well-formed UTF-8 and a well-formed document (400 with the parser's reason), and the text rule
 * on every string of it (lib/text.ts: no control characters, no lone surrogates, bounded nesting),
 * all before any handler or validator runs. XML bodies are turned into the JSON value they stand
 * for (see xml.ts), so one set of validators serves both.
 *
 * The guard always hands on a fresh request: the body it read (as JSON, with a plain
 * `Content-Type: application/json`) or, for an empty body, no body and no Content-Type. So nothing
 * downstream reads a consumed stream or re-judges a Content-Type the guard already judged.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { documentProblem } from "../lib/text";
import { ApiError } from "./errors";
import { fromXml, isXmlMediaType } from "./xml";

export const MAX_BODY_BYTES = 1024 * 1024;

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

// RFC 9110 §8.3.1: type "/" subtype *( OWS ";" OWS name "=" ( token / quoted-string ) ).
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[^"\\\\\\x00-\\x08\\x0a-\\x1f\\x7f]|\\\\[\\x09\\x20-\\x7e])*"';
const MEDIA_TYPE = new RegExp(`^(${TOKEN})/(${TOKEN})((?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED}))*)[ \\t]*$`);
const PARAMETER = new RegExp(`;[ \\t]*(${TOKEN})=(${TOKEN}|${QUOTED})`, "g");

export interface MediaType {
  /** Lower-cased `type/subtype`. */
  essence: string;
  /** Lower-cased names, unquoted values. */
  params: Record<string, string>;
}

/** A Content-Type parsed strictly; null when it is not a media type at all (`application/json;;`). */
export function parseMediaType(value: string): MediaType | null {
  const m = MEDIA_TYPE.exec(value.trim());
  if (!m) return null;
  const params: Record<string, string> = {};
  for (const p of m[3]!.matchAll(PARAMETER)) {
    const raw = p[2]!;
    params[p[1]!.toLowerCase()] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
  }
  return { essence: `${m[1]}/${m[2]}`.toLowerCase(), params };
}

export function isJsonMediaType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

function tooLarge(): ApiError {
  return new ApiError("payload_too_large", `The request body is larger than ${MAX_BODY_BYTES} bytes (1 MiB). Send fewer records per request.`);
}

function unsupported(detail: string): ApiError {
  return new ApiError("unsupported_media_type", detail, { errors: [{ path: "Content-Type", message: detail }] });
}

async function readBoundedBytes(request: Request): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
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
  return all;
}

/** The body as text: strict UTF-8 (malformed bytes are a 400, not silently replaced). */
export async function readBoundedText(request: Request): Promise<string> {
  const bytes = await readBoundedBytes(request);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError("validation_failed", "The request body is not valid UTF-8; send it encoded as UTF-8.", { errors: [{ path: "(body)", message: "is not valid UTF-8" }] });
  }
}

/** Guards bodies of JSON-only endpoints (/platform, /scim/v2). */
export const jsonBody = bodyGuard({ xml: false });
/** Guards bodies of endpoints that also take XML (/v1). */
export const jsonOrXmlBody = bodyGuard({ xml: true });

/** Which parser a Content-Type selects; throws 415 for anything else. */
function formatOf(contentType: string | undefined, options: { xml: boolean }): "json" | "xml" {
  const accepted = options.xml ? "'Content-Type: application/json' or 'application/xml'" : "'Content-Type: application/json'";
  if (contentType === undefined) throw unsupported(`Send the body with ${accepted} (got none).`);
  const media = parseMediaType(contentType);
  if (!media) throw unsupported(`'${contentType.slice(0, 100)}' is not a valid media type; send ${accepted}.`);
  const charset = media.params.charset;
  if (charset !== undefined && charset.toLowerCase() !== "utf-8") throw unsupported(`Only UTF-8 bodies are accepted (got charset=${charset.slice(0, 40)}).`);
  if (isJsonMediaType(media.essence)) return "json";
  if (options.xml && isXmlMediaType(media.essence)) return "xml";
  throw unsupported(`Send the body with ${accepted} (got '${media.essence}').`);
}

function withBody(c: { req: { raw: Request } }, body: string | null): void {
  const headers = new Headers(c.req.raw.headers);
  headers.delete("Content-Length");
  if (body === null) headers.delete("Content-Type");
  else headers.set("Content-Type", "application/json");
  c.req.raw = new Request(c.req.raw.url, { method: c.req.raw.method, headers, body });
}

function bodyGuard(options: { xml: boolean }) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!BODY_METHODS.has(c.req.method)) return next();
    const declared = c.req.header("Content-Length");
    if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
    const contentType = c.req.header("Content-Type");
    const encoding = c.req.header("Content-Encoding")?.trim().toLowerCase();
    if (encoding && encoding !== "identity") throw unsupported(`Content-Encoding '${encoding.slice(0, 40)}' is not accepted; send the body unencoded.`);
    // Judged even for an empty body: a form or text/xml Content-Type on a JSON endpoint is a 415.
    const format = contentType === undefined ? undefined : formatOf(contentType, options);
    const text = c.req.raw.body === null ? "" : await readBoundedText(c.req.raw);
    if (text.length === 0) {
      withBody(c, null);
      return next();
    }
    let parsed: unknown;
    if ((format ?? formatOf(contentType, options)) === "xml") {
      parsed = fromXml(text);
    } else {
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        const reason = err instanceof SyntaxError ? err.message.slice(0, 200) : "unparseable";
        throw new ApiError("invalid_json", `The request body is not valid JSON: ${reason}.`);
      }
    }
    const problem = documentProblem(parsed);
    if (problem) {
      throw new ApiError("validation_failed", `${problem.path}: ${problem.message}`, { errors: [problem] });
    }
    withBody(c, JSON.stringify(parsed));
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
