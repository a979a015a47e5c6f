/**
 * Query strings, judged in one place:
 *
 * - `strictQuery(route)`: a route accepts only the query parameters its contract declares (plus
 *   `format` on /v1, see xml.ts). Anything else is a 400 naming each unknown parameter and listing
 *   the valid ones, so `?emial=x` cannot silently turn an existence check into a full listing.
 *   The valid list is derived from the route's zod query schema; `createRouter()` applies it to
 *   every route, so no route repeats it.
 * - `intQuery(min, max)`: a numeric parameter is a bounded decimal integer (`0x10`, `1e3`, ` 5`,
 *   `5.0` and 20-digit values are 400s, never reinterpreted).
 * - `urlText`: every decoded path segment, query name and query value obeys the text rule
 *   (lib/text.ts), so an id or filter carrying NUL never reaches a handler, a log or an XML answer.
 */
import { z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { textProblem } from "../lib/text";
import { ApiError, invalidFields, type FieldError } from "./errors";

/** Parameters every /v1 operation takes besides its own (the response format, see xml.ts). */
const V1_COMMON = ["format"];

const DECIMAL = /^(0|[1-9][0-9]{0,9})$/;

/**
 * A bounded decimal integer query parameter. Every failure says the same thing: the range, and an
 * example inside it (the validation hook writes it as `e.g. limit=100`).
 */
export function intQuery(min: number, max: number, example = Math.min(max, Math.max(min, 100))) {
  const message = `must be a whole number from ${min} to ${max}, e.g. ${example}`;
  return z
    .string()
    .regex(DECIMAL, { error: message })
    .transform(Number)
    .pipe(z.number().int({ error: message }).min(min, { error: message }).max(max, { error: message }));
}

/** The valid query parameter names of a route contract, sorted. */
export function validQueryNames(route: { path: string; request?: { query?: unknown } }): string[] {
  const query = route.request?.query as { shape?: Record<string, unknown> } | undefined;
  const own = Object.keys(query?.shape ?? {});
  return [...new Set([...own, ...(route.path.startsWith("/v1/") ? V1_COMMON : [])])].sort();
}

/** Unknown-parameter errors waiting for the route's query validator, by request (see unknownQueryGuard). */
export interface UnknownParameters {
  errors: FieldError[];
  extra: Record<string, unknown>;
  /** The valid parameters, for the problem's detail. */
  hint: string;
}
const pending = new WeakMap<Request, UnknownParameters>();

/** The unknown-parameter errors the guard left for this request's query validator, taken once. */
export function pendingQueryErrors(c: Context): UnknownParameters | undefined {
  const found = pending.get(c.req.raw);
  pending.delete(c.req.raw);
  return found;
}

/**
 * Unknown parameters are a 400 listing the valid ones. On a route with a query schema the errors
 * wait for its validator (http/validation.ts), so one 400 names the unknown parameters and the bad
 * values of known ones together; a route without one answers here.
 */
export function unknownQueryGuard(valid: string[], hasQuerySchema = false): MiddlewareHandler<AppEnv> {
  const known = new Set(valid);
  return async (c, next) => {
    const unknown = [...new URL(c.req.url).searchParams.keys()].filter((k, i, all) => !known.has(k) && all.indexOf(k) === i);
    if (unknown.length > 0) {
      const hint = valid.length > 0 ? `valid parameters: ${valid.join(", ")}` : "this endpoint takes no query parameters";
      const errors: FieldError[] = unknown.map((k) => ({ path: k.slice(0, 100), message: `is not a query parameter of this endpoint; ${hint}` }));
      const extra = { validParameters: valid };
      const detailHint = `${hint[0]!.toUpperCase()}${hint.slice(1)}.`;
      if (hasQuerySchema) pending.set(c.req.raw, { errors, extra, hint: detailHint });
      else {
        const err = invalidFields(errors, "invalid_query", detailHint);
        Object.assign(err.extra, extra);
        throw err;
      }
    }
    await next();
  };
}

/** A route contract with the unknown-parameter guard in front of its validators. */
export function strictQuery<R extends { path: string; request?: { query?: unknown }; middleware?: unknown }>(route: R): R {
  const guard = unknownQueryGuard(validQueryNames(route), route.request?.query !== undefined);
  const existing = route.middleware === undefined ? [] : Array.isArray(route.middleware) ? route.middleware : [route.middleware];
  return { ...route, middleware: [guard, ...existing] };
}

function invalidUrl(path: string, message: string): ApiError {
  return new ApiError("invalid_query", `${path}: ${message}`, { errors: [{ path, message }] });
}

/** The text rule on the decoded path and query (400 before any routing or database work). */
export const urlText = createMiddleware<AppEnv>(async (c, next) => {
  const url = new URL(c.req.url);
  for (const segment of url.pathname.split("/")) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw invalidUrl("(path)", "holds malformed percent-encoding");
    }
    const problem = textProblem(decoded);
    if (problem) throw invalidUrl("(path)", problem);
  }
  if (url.search.length > 1) {
    // URLSearchParams replaces malformed escapes with U+FFFD silently; judge the raw pairs first.
    for (const pair of url.search.slice(1).split("&")) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(pair.replaceAll("+", " "));
      } catch {
        throw invalidUrl("(query)", "holds malformed percent-encoding");
      }
      const problem = textProblem(decoded);
      if (problem) throw invalidUrl(decoded.split("=")[0]!.slice(0, 100) || "(query)", problem);
    }
  }
  await next();
});
