/**
 * CORS for browser clients of /v1, /scim/v2 and the API documents (not /platform, not /console).
 *
 * Origins are an explicit list (CORS_ALLOWED_ORIGINS, comma-separated exact origins such as
 * `https://app.example.com`); without it no response carries a CORS header, so browsers keep
 * the same-origin policy. Tokens travel in the Authorization header, never in cookies, so
 * credentials mode is never allowed.
 *
 * A preflight (OPTIONS with Origin and Access-Control-Request-Method) from an allowed origin is
 * answered here, first: browsers send it without credentials, so it cannot carry a token, and it
 * reads nothing, so it neither resolves the tenant nor counts against the rate limits (it costs
 * no D1 or Durable Object call; Access-Control-Max-Age lets the browser skip it for two hours).
 * Every other request goes on, and its response (an error too) gets the origin and the headers
 * a script may read.
 *
 * Not hono/cors: it treats every OPTIONS as a preflight (hiding the `Allow` answer of
 * http/methods.ts) and sends a 204 and Expose-Headers to origins it does not allow.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";

export const CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/** Every request header the API reads (beyond the CORS-safelisted ones). */
export const CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "Accept", "Idempotency-Key", "If-Match", "If-None-Match", "X-Request-Id", "X-D1-Bookmark"];

/** Every response header a client script may need (CORS-safelisted ones are readable anyway). */
export const CORS_EXPOSED_HEADERS = [
  "ETag",
  "Location",
  "Link",
  "X-Request-Id",
  "Retry-After",
  "RateLimit",
  "RateLimit-Policy",
  "X-RateLimit-Limit",
  "X-RateLimit-Remaining",
  "X-RateLimit-Reset",
  "Idempotent-Replayed",
  "WWW-Authenticate",
  "Allow",
  "X-D1-Bookmark",
];

/** Two hours: the most Chromium honours. */
export const CORS_MAX_AGE_SECONDS = 7200;

let parsed: { raw: string; origins: Set<string> } | undefined;

/**
 * The configured origins, lower-cased and without a trailing slash (browsers send `Origin` in
 * that form). `*` and `null` are ignored: a wildcard is not an exact origin, and `null` is what
 * sandboxed frames and file: pages send, which no one can be sure to own.
 */
export function allowedOrigins(raw: string | undefined): Set<string> {
  const value = raw ?? "";
  if (parsed?.raw !== value) {
    const origins = value
      .split(",")
      .map((o) => o.trim().toLowerCase().replace(/\/+$/, ""))
      .filter((o) => o !== "" && o !== "*" && o !== "null");
    parsed = { raw: value, origins: new Set(origins) };
  }
  return parsed.origins;
}

function withVary(current: string | null, name: string): string {
  if (!current) return name;
  return current.split(",").some((v) => v.trim().toLowerCase() === name.toLowerCase()) ? current : `${current}, ${name}`;
}

export const cors = createMiddleware<AppEnv>(async (c, next) => {
  const origins = allowedOrigins(c.env.CORS_ALLOWED_ORIGINS);
  if (origins.size === 0) return next();
  const origin = c.req.header("Origin");
  const allowed = origin !== undefined && origins.has(origin);
  if (allowed && c.req.method === "OPTIONS" && c.req.header("Access-Control-Request-Method")) {
    return c.body(null, 204, {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Allow-Methods": CORS_METHODS.join(", "),
      "Access-Control-Allow-Headers": CORS_REQUEST_HEADERS.join(", "),
      "Access-Control-Max-Age": String(CORS_MAX_AGE_SECONDS),
      Vary: "Origin",
    });
  }
  await next();
  // The answer depends on Origin whenever CORS is on, so caches must key on it (also when refused).
  // c.header, not c.res.headers: it copies a response whose headers are immutable first.
  c.header("Vary", withVary(c.res.headers.get("Vary"), "Origin"));
  if (!allowed) return;
  c.header("Access-Control-Allow-Origin", origin);
  c.header("Access-Control-Expose-Headers", CORS_EXPOSED_HEADERS.join(", "));
});
