/** Renders catalogue errors as RFC 9457 problem+json, and maps everything else onto the catalogue. */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../env";
import { ApiError, problemType } from "./errors";

/** `requestId` equals the response's X-Request-Id, so a client can quote one id from the body alone. */
export function problemBody(err: ApiError, instance?: string, requestId?: string): Record<string, unknown> {
  return {
    type: problemType(err.code),
    title: err.title,
    status: err.status,
    detail: err.message,
    code: err.code,
    ...(instance ? { instance } : {}),
    ...(requestId ? { requestId } : {}),
    errors: err.errors,
    ...err.extra,
  };
}

/** Anything thrown becomes an ApiError; unexpected errors are logged and become a bare 500. */
export function toApiError(err: unknown, requestId: string | undefined): ApiError {
  if (err instanceof ApiError) return err;
  // Drizzle wraps what the D1 binding threw, and the request's gate throws auth and rate-limit
  // refusals from inside the binding (core/request-db.ts): those are answers, not failures.
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (cause instanceof ApiError) return cause;
  if (err instanceof HTTPException) {
    if (err.status === 413) return new ApiError("payload_too_large", "The request body is larger than 1 MiB.");
    if (err.status === 400) return new ApiError("invalid_json", "The request body is not valid JSON.");
    if (err.status === 404) return new ApiError("route_not_found", "No endpoint matches this path.");
    // The framework's own refusals (e.g. zod-openapi's media-type gate) are answers, not failures.
    if (err.status === 415) return new ApiError("unsupported_media_type", "Send the body with 'Content-Type: application/json'.");
    if (err.status >= 400 && err.status < 500) return new ApiError("validation_failed", "The request is not valid.");
  }
  // Never echo the message: D1/Drizzle errors carry SQL and parameters.
  console.error(JSON.stringify({ level: "error", requestId, error: err instanceof Error ? err.name : "unknown" }), err);
  return new ApiError("internal", `Something went wrong on our side. Quote request id ${requestId ?? "(none)"} when reporting it.`);
}

export function renderProblem(c: Context, err: ApiError): Response {
  // Through the context, so headers set earlier (X-Request-Id, rate-limit headers) are kept.
  const requestId = (c as Context<AppEnv>).get("requestId") as string | undefined;
  return c.newResponse(JSON.stringify(problemBody(err, new URL(c.req.url).pathname, requestId)), err.status as 400, {
    ...err.headers,
    "Content-Type": "application/problem+json",
  });
}
