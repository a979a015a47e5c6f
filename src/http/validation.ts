/**
 * Turns zod failures into catalogue errors in the service's own words: every issue kind becomes a
 * sentence that says what was wrong and, where one is known, gives an example of right. Paths use
 * the one notation (errors.ts fieldPath). zod's own phrasing ("Invalid input: expected ...") never
 * reaches a client: the messages are made by the error map below, which zod consults for every
 * issue a schema does not word itself.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the hook is shared by every route */
import type { Hook } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../env";
import { USER_FIELDS } from "../users/fields";
import { fieldPath, invalidFields, type FieldError } from "./errors";
import { pendingQueryErrors } from "./query";

type RawIssue = z.core.$ZodRawIssue;

/** Examples for fields that have no entry in the field table (users/fields.ts), by format. */
const FORMAT_EXAMPLES: Record<string, string> = {
  email: "jane.doe@example.com",
  uuid: "0193a5c2-7d1e-7b3e-9f1e-2d7a1c9b0e11",
  guid: "0193a5c2-7d1e-7b3e-9f1e-2d7a1c9b0e11",
  datetime: "2026-01-31T09:30:00Z",
  date: "2026-01-31",
  time: "09:30:00",
  url: "https://hooks.example.com/provisioning",
};

const FORMAT_NAMES: Record<string, string> = {
  email: "an email address",
  uuid: "a UUID",
  guid: "a UUID",
  datetime: "an ISO 8601 date-time with a time zone",
  date: "a date as YYYY-MM-DD",
  time: "a time as HH:MM:SS",
  url: "a URL",
  ipv4: "an IPv4 address",
  ipv6: "an IPv6 address",
  base64: "base64 text",
  base64url: "base64url text",
  jwt: "a JWT",
};

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "an object",
  array: "a list",
  record: "an object",
  date: "a date",
  bigint: "a whole number",
  null: "null",
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The field table's example for a built-in field (matched by the last member name of the path). */
function fieldExample(path: readonly PropertyKey[]): string | undefined {
  const last = [...path].reverse().find((s) => typeof s === "string") as string | undefined;
  if (last === undefined || !Object.hasOwn(USER_FIELDS, last)) return undefined;
  return (USER_FIELDS[last as keyof typeof USER_FIELDS] as { example?: string }).example;
}

const eg = (example: string | undefined) => (example === undefined ? "" : `, e.g. ${example}`);

function lengthOf(input: unknown): number | undefined {
  if (typeof input === "string" || Array.isArray(input)) return input.length;
  if (input instanceof Set || input instanceof Map) return input.size;
  return undefined;
}

function got(input: unknown): string {
  const n = lengthOf(input);
  return n === undefined ? "" : ` (got ${n})`;
}

function bound(kind: "most" | "least", issue: { origin: string; inclusive?: boolean; input?: unknown }, limit: number | bigint | Date): string {
  const n = typeof limit === "number" || typeof limit === "bigint" ? Number(limit) : limit;
  switch (issue.origin) {
    case "string":
      if (kind === "least" && n === 1) return "must not be empty";
      return `must be at ${kind} ${String(n)} characters${got(issue.input)}`;
    case "array":
    case "set":
      if (kind === "least" && n === 1) return "must list at least one entry";
      return `must list at ${kind} ${String(n)} entries${got(issue.input)}`;
    case "date":
      return `must be ${kind === "most" ? "on or before" : "on or after"} ${n instanceof Date ? n.toISOString() : String(n)}`;
    default: {
      const strict = issue.inclusive === false;
      const word = kind === "most" ? (strict ? "less than" : "at most") : strict ? "greater than" : "at least";
      return `must be ${word} ${String(n)}${typeof issue.input === "number" ? ` (got ${issue.input})` : ""}`;
    }
  }
}

/** One sentence for one zod issue, without the field's name (the path carries it). */
export function messageOf(issue: RawIssue): string {
  const example = fieldExample(issue.path ?? []);
  switch (issue.code) {
    case "invalid_type": {
      const want = TYPE_NAMES[issue.expected] ?? `of type ${issue.expected}`;
      const exampleOfType = issue.expected === "string" ? eg(example) : "";
      if (issue.input === undefined) return `is required; it must be ${want}${exampleOfType}`;
      if (issue.input === null) return `cannot be null; it must be ${want}${exampleOfType}`;
      if (issue.expected === "number" && typeof issue.input === "number") return "must be a finite number";
      if (issue.expected === "boolean") return "must be true or false (without quotes)";
      return `must be ${want}${exampleOfType}`;
    }
    case "too_big":
      return bound("most", issue, issue.maximum);
    case "too_small":
      return bound("least", issue, issue.minimum);
    case "invalid_format": {
      if (issue.format === "regex") return "does not have the right format; see the API reference at /docs";
      if (issue.format === "starts_with") return `must start with "${(issue as { prefix?: string }).prefix ?? ""}"`;
      if (issue.format === "ends_with") return `must end with "${(issue as { suffix?: string }).suffix ?? ""}"`;
      if (issue.format === "includes") return `must contain "${(issue as { includes?: string }).includes ?? ""}"`;
      const name = FORMAT_NAMES[issue.format] ?? `a valid ${issue.format}`;
      return `must be ${name}${eg(example ?? FORMAT_EXAMPLES[issue.format])}`;
    }
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)}`;
    case "invalid_value": {
      const values = issue.values;
      if (values.length === 2 && values.includes(true) && values.includes(false)) return "must be true or false";
      if (values.length === 2 && values.includes("true") && values.includes("false")) return "must be true or false";
      if (values.length === 1) return `must be ${JSON.stringify(values[0])}`;
      return `must be one of: ${values.map((v) => JSON.stringify(v)).join(", ")}`;
    }
    case "unrecognized_keys":
      return `has fields this endpoint does not take: ${issue.keys.join(", ")}`;
    case "invalid_key":
      return "has a key that is not valid";
    case "invalid_element":
      return "has an entry that is not valid";
    case "invalid_union":
      return "does not match any of the accepted shapes; see the API reference at /docs";
    default:
      return "is not valid";
  }
}

// The service's words for every issue a schema does not word itself (per-schema messages win).
z.config({ customError: (issue) => messageOf(issue) });

/** Final zod issues as field errors: one entry per unknown key, every path in the one notation. */
export function issuesToFieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        errors.push({ path: fieldPath([...issue.path, key]), message: "is not a recognised field; check its spelling against the API reference at /docs" });
      }
      continue;
    }
    errors.push({ path: fieldPath(issue.path) || "(body)", message: issue.message });
  }
  return errors;
}

/** A query parameter's example is shown as it is written in a URL: `e.g. limit=100`. */
function asQueryExamples(errors: FieldError[]): FieldError[] {
  return errors.map((e) => ({ ...e, message: e.message.replace(/, e\.g\. ([^,;]+)$/, `, e.g. ${e.path}=$1`) }));
}

export const validationHook: Hook<any, AppEnv, any, any> = (result, c) => {
  const inQuery = result.target === "query" || result.target === "param" || result.target === "header";
  // Unknown parameters (http/query.ts) are reported together with the declared ones' problems.
  const unknown = result.target === "query" ? pendingQueryErrors(c) : undefined;
  if (result.success && !unknown) return;
  const errors = [...(unknown?.errors ?? []), ...(result.success ? [] : issuesToFieldErrors(result.error.issues))];
  const err = invalidFields(inQuery ? asQueryExamples(errors) : errors, inQuery ? "invalid_query" : "validation_failed", unknown?.hint);
  if (unknown) Object.assign(err.extra, unknown.extra);
  throw err;
};

/** Field errors of a value against a schema, or the parsed value. */
export function checkWith<T extends z.ZodType>(schema: T, value: unknown): { data: z.output<T>; errors?: undefined } | { data?: undefined; errors: FieldError[] } {
  const result = schema.safeParse(value);
  return result.success ? { data: result.data } : { errors: issuesToFieldErrors(result.error.issues) };
}

/** Validates a value against a schema outside zod-openapi's validators (e.g. several media types). */
export function validateWith<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const checked = checkWith(schema, value);
  if (checked.errors) throw invalidFields(checked.errors);
  return checked.data;
}

/**
 * What is valid of an object body whose schema failed: the members no issue names, parsed by the
 * schema with every member optional. The users core runs its own checks on it, so one 400 lists
 * the schema's problems and the core's together. Undefined when nothing can be salvaged (the body
 * is not an object).
 */
export function validPart<T extends z.ZodObject>(schema: T, value: unknown, issues: readonly z.core.$ZodIssue[]): Partial<z.output<T>> | undefined {
  if (!isRecord(value)) return undefined;
  const bad = new Set<string>();
  for (const issue of issues) {
    if (issue.path.length > 0) bad.add(String(issue.path[0]));
    else if (issue.code === "unrecognized_keys") issue.keys.forEach((k) => bad.add(k));
    else return undefined;
  }
  const rest = Object.fromEntries(Object.entries(value).filter(([k]) => !bad.has(k)));
  const parsed = schema.partial().safeParse(rest);
  return parsed.success ? (parsed.data as Partial<z.output<T>>) : undefined;
}
