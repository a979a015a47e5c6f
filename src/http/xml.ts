/**
 * XML for the REST API, as a lossless rendering of the JSON documents (so both formats carry the
 * same data by construction):
 *
 * - an object is an element whose children are its members, in order;
 * - a string is text; a number or boolean is text with `type="number"` / `type="boolean"`;
 * - null is an empty element with `nil="true"`;
 * - an array is an element with `type="array"` holding one `<item>` per entry;
 * - an empty object is an empty element with `type="object"` (else it would read back as "");
 * - a member whose name is not an XML name (e.g. "2fa") becomes `<entry key="2fa">`.
 *
 * Responses have the root `<response>` (errors: RFC 7807 `<problem>`); requests may use any root.
 * Parsing refuses DTDs outright (no entity declarations, so no entity expansion) and bounds depth;
 * size is bounded by the body guard (1 MiB).
 */
import { XMLBuilder, XMLParser } from "fast-xml-parser";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "./errors";

const XML_NAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;
const MAX_DEPTH = 32;
const ATTR = "@_";
const TEXT = "#text";

type Node = Record<string, unknown>;

function toNode(value: unknown): unknown {
  if (value === null || value === undefined) return { [`${ATTR}nil`]: "true" };
  if (typeof value === "string") return value === "" ? { [TEXT]: "" } : value;
  if (typeof value === "number") return { [TEXT]: String(value), [`${ATTR}type`]: "number" };
  if (typeof value === "boolean") return { [TEXT]: String(value), [`${ATTR}type`]: "boolean" };
  if (Array.isArray(value)) return { [`${ATTR}type`]: "array", item: value.map(toNode) };
  const node: Node = {};
  const entries: Node[] = [];
  for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
    if (XML_NAME.test(key) && !key.toLowerCase().startsWith("xml") && key !== "entry" && key !== "item") node[key] = toNode(member);
    else {
      const converted = toNode(member);
      entries.push(typeof converted === "object" ? { [`${ATTR}key`]: key, ...(converted as Node) } : { [`${ATTR}key`]: key, [TEXT]: converted });
    }
  }
  if (entries.length > 0) node.entry = entries;
  // `<attributes/>` would read back as the empty string: a GET's document could not be PUT back.
  if (Object.keys(node).length === 0) node[`${ATTR}type`] = "object";
  return node;
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  textNodeName: TEXT,
  suppressEmptyNode: true,
  suppressBooleanAttributes: false,
  format: false,
});

export function toXml(document: unknown, root: "response" | "problem"): string {
  const body = toNode(document) as Node;
  if (root === "problem") body[`${ATTR}xmlns`] = "urn:ietf:rfc:7807";
  return `<?xml version="1.0" encoding="UTF-8"?>${builder.build({ [root]: body })}`;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  textNodeName: TEXT,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name) => name === "item" || name === "entry",
  maxNestedTags: MAX_DEPTH + 2,
  // Decodes character references (&#x41; is "A"); checkReferences has vetted every one first.
  htmlEntities: true,
});

const XML_PREDEFINED = new Set(["amp", "lt", "gt", "quot", "apos"]);

/** XML 1.0 `Char`: what a character reference may stand for. */
function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/**
 * References are decoded, never stored literally or dropped: a reference to a character XML
 * forbids (&#0;, &#xD800;) or to an entity XML does not predefine (&nbsp;) is a 400.
 */
function checkReferences(text: string): void {
  for (const m of text.matchAll(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_][\w.-]*);/g)) {
    const ref = m[1]!;
    if (!ref.startsWith("#")) {
      if (!XML_PREDEFINED.has(ref)) throw invalidXml(`the entity &${ref.slice(0, 20)}; is not defined (XML predefines only amp, lt, gt, quot and apos)`);
      continue;
    }
    const cp = ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    if (!isXmlChar(cp)) throw invalidXml(`the character reference &${ref.slice(0, 12)}; is not a character XML allows`);
  }
}

function invalidXml(message: string): ApiError {
  return new ApiError("invalid_xml", `The request body is not acceptable XML: ${message}.`);
}

function fromNode(node: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw invalidXml(`elements are nested deeper than ${MAX_DEPTH} levels`);
  if (typeof node === "string") return node.trim() === "" && node.includes("\n") ? "" : node;
  if (node === null || node === undefined || typeof node !== "object") return "";
  const n = node as Node;
  if (n[`${ATTR}nil`] === "true") return null;
  const type = n[`${ATTR}type`];
  const text = typeof n[TEXT] === "string" ? (n[TEXT] as string) : n[TEXT] === undefined ? "" : String(n[TEXT]);
  if (type === "number") {
    const value = Number(text.trim());
    if (text.trim() === "" || !Number.isFinite(value)) throw invalidXml(`'${text}' is marked type="number" but is not a number`);
    return value;
  }
  if (type === "boolean") {
    const t = text.trim();
    if (t !== "true" && t !== "false") throw invalidXml(`'${text}' is marked type="boolean" but is not true or false`);
    return t === "true";
  }
  if (type === "array") return ((n.item as unknown[] | undefined) ?? []).map((child) => fromNode(child, depth + 1));
  const children = Object.keys(n).filter((k) => !k.startsWith(ATTR) && k !== TEXT);
  if (children.length === 0) return type === "object" ? {} : text;
  const out: Record<string, unknown> = {};
  for (const key of children) {
    if (key === "entry") {
      for (const entry of n.entry as Node[]) {
        const entryKey = entry[`${ATTR}key`];
        if (typeof entryKey !== "string") throw invalidXml("<entry> needs a key attribute");
        out[entryKey] = fromNode(entry, depth + 1);
      }
    } else {
      const child = n[key];
      if (Array.isArray(child)) throw invalidXml(`<${key}> appears more than once; lists are written as <${key} type="array"><item>...</item></${key}>`);
      out[key] = fromNode(child, depth + 1);
    }
  }
  return out;
}

/** Parses a request document into the JSON value it stands for (the root element's content). */
export function fromXml(text: string): unknown {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw invalidXml("DTDs and entity declarations are not allowed");
  checkReferences(text);
  let parsed: Node;
  try {
    parsed = parser.parse(text, true) as Node;
  } catch (err) {
    throw invalidXml(err instanceof Error ? err.message.split("\n")[0]!.slice(0, 200) : "unparseable");
  }
  const roots = Object.keys(parsed).filter((k) => !k.startsWith("?"));
  if (roots.length !== 1) throw invalidXml("expected exactly one root element");
  const root = parsed[roots[0]!];
  const value = fromNode(root, 0);
  return value === "" ? {} : value;
}

export function isXmlMediaType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  return type === "application/xml" || type === "text/xml" || (type.startsWith("application/") && type.endsWith("+xml"));
}

/** Which format the client asked for: `?format=` wins over `Accept`. */
export function wantsXml(format: string | undefined, accept: string | undefined): boolean {
  if (format !== undefined) {
    const f = format.toLowerCase();
    if (f === "xml") return true;
    if (f === "json") return false;
    throw new ApiError("invalid_query", "format: must be json or xml", { errors: [{ path: "format", message: "must be json or xml" }] });
  }
  if (!accept) return false;
  const a = accept.toLowerCase();
  const xmlAt = Math.min(...["application/xml", "text/xml"].map((t) => (a.indexOf(t) === -1 ? Infinity : a.indexOf(t))));
  const jsonAt = a.indexOf("json") === -1 ? Infinity : a.indexOf("json");
  return xmlAt < jsonAt;
}

/**
 * Renders the JSON and problem+json responses of the routes below it as XML when the client asks
 * for XML (`?format=xml` or `Accept: application/xml`). Handlers stay format-agnostic.
 */
export const xmlResponses = createMiddleware<AppEnv>(async (c, next) => {
  // Decided before the route runs: an invalid `format` must not execute the request.
  const xml = wantsXml(c.req.query("format"), c.req.header("Accept"));
  await next();
  c.header("Vary", "Accept");
  if (!xml) return;
  const type = c.res.headers.get("Content-Type") ?? "";
  const isProblem = type.startsWith("application/problem+json");
  if (!isProblem && !type.startsWith("application/json")) return;
  const document: unknown = await c.res.clone().json();
  const headers = new Headers(c.res.headers);
  headers.set("Content-Type", isProblem ? "application/problem+xml; charset=utf-8" : "application/xml; charset=utf-8");
  headers.delete("Content-Length");
  c.res = new Response(toXml(document, isProblem ? "problem" : "response"), { status: c.res.status, headers });
});

export const XML_MAPPING_DESCRIPTION = [
  "**XML.** Every /v1 endpoint also speaks XML: ask with `?format=xml` or `Accept: application/xml` (`?format=` wins), and send",
  "bodies with `Content-Type: application/xml`. The XML is a lossless rendering of the JSON document described by each schema:",
  "an object is an element with one child per member; a string is text; numbers and booleans carry `type=\"number\"` /",
  "`type=\"boolean\"`; null is an empty element with `nil=\"true\"`; an empty object is an empty element with `type=\"object\"`; an array is an element with `type=\"array\"` and one `<item>`",
  "per entry; a member whose name is not an XML name becomes `<entry key=\"...\">`. Responses use the root `<response>`, errors",
  "`<problem xmlns=\"urn:ietf:rfc:7807\">` (application/problem+xml); requests may use any root element. DTDs are refused.",
  "Example: `<user><firstName>Jane</firstName><active type=\"boolean\">true</active><attributes><fte type=\"number\">0.8</fte></attributes></user>`.",
].join(" ");

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- walks an untyped OpenAPI document
type OpenApiDocument = { paths?: Record<string, Record<string, any>> };

/** Adds the XML media types (same schemas) and the `format` parameter to every /v1 operation. */
export function withXmlAlternatives<T extends OpenApiDocument>(doc: T): T {
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    if (!path.startsWith("/v1/")) continue;
    for (const operation of Object.values(item)) {
      if (!operation || typeof operation !== "object" || !operation.responses) continue;
      const body = operation.requestBody?.content;
      if (body?.["application/json"]) body["application/xml"] = { schema: body["application/json"].schema };
      for (const response of Object.values(operation.responses as Record<string, any>)) {
        const content = response?.content;
        if (content?.["application/json"]) content["application/xml"] = { schema: content["application/json"].schema };
        if (content?.["application/problem+json"]) content["application/problem+xml"] = { schema: content["application/problem+json"].schema };
      }
      operation.parameters = [
        ...(operation.parameters ?? []),
        { name: "format", in: "query", required: false, schema: { type: "string", enum: ["json", "xml"] }, description: "Response format; overrides Accept." },
      ];
    }
  }
  return doc;
}
