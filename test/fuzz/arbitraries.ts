/**
 * fast-check arbitraries derived from the service's own descriptions: JSON Schema from
 * `/openapi.json` (REST) and attribute lists from SCIM `/Schemas`. Valid-looking values are mixed
 * with hostile ones (control characters, lone surrogates, XML-forbidden characters, huge and
 * non-decimal numbers, SQL and filter fragments, wrong types, deep nesting), so one run explores
 * both the happy paths (where deeper code runs) and the edges.
 */
import fc from "fast-check";

type Schema = Record<string, any>;
export type Doc = { paths: Record<string, Record<string, any>>; components?: { schemas?: Record<string, Schema> } };

/** Strings a hostile client sends. None contains the isolation markers (fuzz.test.ts). */
export const HOSTILE_STRINGS = [
  "", " ", "\u0000", "a\u0000b", "\u001b[31m", "\ud800", "\udc00x", "\ufffe", "\uffff", "\t\n\r", "&#0;", "&#x41;", "<x/>", "]]>",
  "' OR 1=1 --", '" OR ""="', "'; DROP TABLE users; --", "%00", "%", "%E0%A4", "../../etc/passwd", "C:\\windows", "${7*7}", "{{7*7}}",
  "null", "true", "-1", "0", "1e308", "0x10", "9223372036854775807", "NaN", "Infinity", "-0", "1.5",
  'userName eq "x"', '(((((((((((((((a eq "b")))))))))))))))', 'emails[type eq "work"].value', "bulkId:x", "a".repeat(300), "é".repeat(70), "😀".repeat(40),
];

export const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
);

const hostileNumber = fc.oneof(
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 53 + 1, 9223372036854775807, 1e308, -1e308, 0.5, Number.MIN_VALUE),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Any JSON value, nested up to `depth`; now and then far deeper than the service allows. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 3000 }).map((n) => JSON.parse(`${"[".repeat(n)}${"]".repeat(n)}`)) },
);

function resolve(doc: Doc, schema: Schema | undefined): Schema {
  let s = schema ?? {};
  for (let i = 0; i < 10 && typeof s.$ref === "string"; i++) s = doc.components?.schemas?.[s.$ref.split("/").pop()!] ?? {};
  return s;
}

function plausibleString(s: Schema, hints: string[]): fc.Arbitrary<string> {
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as string[]));
  if (s.format === "date-time") return fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString());
  if (s.format === "email") return fc.emailAddress();
  if (typeof s.pattern === "string" && s.pattern.includes("[0-9]")) return fc.integer({ min: 0, max: 2000 }).map(String);
  const max = Math.min(typeof s.maxLength === "number" ? s.maxLength : 40, 60);
  return fc.oneof(fc.string({ minLength: 1, maxLength: max }), fc.emailAddress(), ...(hints.length ? [fc.constantFrom(...hints)] : []));
}

/**
 * A value for a JSON Schema: mostly valid (so requests get past validation and exercise the
 * core), sometimes hostile (so validation itself is exercised). `hints` are known ids and names.
 */
export function fromSchema(doc: Doc, schema: Schema | undefined, hints: string[], depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(doc, schema);
  const valid = validFrom(doc, s, hints, depth);
  return fc.oneof({ weight: 6, arbitrary: valid }, { weight: depth === 0 ? 1 : 2, arbitrary: depth > 2 ? hostileString : anyJson });
}

function validFrom(doc: Doc, s: Schema, hints: string[], depth: number): fc.Arbitrary<unknown> {
  const alternatives = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (alternatives?.length) return fc.oneof(...alternatives.map((a) => validFrom(doc, resolve(doc, a), hints, depth)));
  const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== "null") : s.type;
  switch (type) {
    case "string":
      return plausibleString(s, hints);
    case "integer":
      return fc.oneof(fc.integer({ min: s.minimum ?? -5, max: Math.min(s.maximum ?? 2000, 2000) }), hostileNumber);
    case "number":
      return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), hostileNumber);
    case "boolean":
      return fc.boolean();
    case "array":
      return depth > 3 ? fc.constant([]) : fc.array(validFrom(doc, resolve(doc, s.items), hints, depth + 1), { maxLength: 4 });
    case "object":
    default: {
      if (depth > 3) return fc.constant({});
      const props = Object.entries((s.properties ?? {}) as Record<string, Schema>);
      if (props.length === 0) return type === "object" ? fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }) : fc.jsonValue({ maxDepth: 2 });
      const record = Object.fromEntries(props.map(([k, v]) => [k, fromSchema(doc, v, hints, depth + 1)]));
      const required = (s.required ?? []) as string[];
      // Usually the required members are present; sometimes not, and sometimes an unknown one rides along.
      return fc
        .tuple(fc.record(record, { requiredKeys: [] }), fc.boolean(), fc.option(fc.tuple(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 })), { freq: 8 }))
        .chain(([partial, fill, extra]) =>
          (fill ? fc.record(Object.fromEntries(required.filter((k) => record[k]).map((k) => [k, record[k]!]))) : fc.constant({})).map((req) => ({
            ...partial,
            ...req,
            ...(extra ? { [extra[0]]: extra[1] } : {}),
          })),
        );
    }
  }
}

export interface ScimAttribute {
  name: string;
  type: string;
  multiValued?: boolean;
  subAttributes?: ScimAttribute[];
}

/** A SCIM attribute value: typed like /Schemas says, or hostile. */
export function scimValue(a: ScimAttribute, hints: string[], depth = 0): fc.Arbitrary<unknown> {
  const one: fc.Arbitrary<unknown> =
    a.type === "complex" && a.subAttributes && depth < 2
      ? fc.record(Object.fromEntries(a.subAttributes.map((s) => [s.name, scimValue({ ...s, multiValued: false }, hints, depth + 1)])), { requiredKeys: [] })
      : a.type === "boolean"
        ? fc.oneof(fc.boolean(), fc.constantFrom("True", "False", "yes"))
        : a.type === "integer" || a.type === "decimal"
          ? hostileNumber
          : a.type === "dateTime"
            ? fc.date({ noInvalidDate: true }).map((d) => d.toISOString())
            : fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.emailAddress(), ...(hints.length ? [fc.constantFrom(...hints)] : []));
  const typed = a.multiValued ? fc.array(one, { maxLength: 3 }) : one;
  return fc.oneof({ weight: 5, arbitrary: typed }, { weight: 1, arbitrary: anyJson });
}

/**
 * encodeURIComponent that also sends lone surrogates (as their generalized UTF-8 bytes, which is
 * what a hostile client can put on the wire) instead of throwing.
 */
export function percentEncode(value: string): string {
  let out = "";
  for (const ch of value) {
    const cu = ch.charCodeAt(0);
    if (ch.length === 1 && cu >= 0xd800 && cu <= 0xdfff) {
      out += [0xe0 | (cu >> 12), 0x80 | ((cu >> 6) & 0x3f), 0x80 | (cu & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join("");
    } else out += encodeURIComponent(ch);
  }
  return out;
}
