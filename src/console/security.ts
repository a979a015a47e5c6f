/**
 * The console's browser-facing protections: response headers (a strict CSP with no inline script
 * or style, no framing, no referrer), the session cookie's flags, and CSRF checks (an Origin check
 * on every POST, plus the session's synchronizer token on every signed-in form).
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../http/errors";
import { secretsEqual } from "../lib/crypto";
import type { ConsoleEnv } from "./env";
import { SESSION_LIFETIME_MS } from "./sessions";

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export const consoleHeaders = createMiddleware<ConsoleEnv>(async (c, next) => {
  await next();
  c.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  c.header("X-Frame-Options", "DENY");
  // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on form posts.
  c.header("Referrer-Policy", "same-origin");
  c.header("Cross-Origin-Opener-Policy", "same-origin");
  c.header("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  // Pages show personal data and one-time secrets: never store them. Assets set their own policy.
  if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
});

/** Local development is plain http on *.localhost; everywhere else the cookie is Secure. */
function isLocalDev(c: Context): boolean {
  const url = new URL(c.req.url);
  const host = (c.req.header("Host") ?? url.host).replace(/:\d+$/, "");
  return url.protocol === "http:" && (host === "localhost" || host.endsWith(".localhost"));
}

/** `__Host-` pins the cookie to this exact host over https; it needs Secure, so local dev drops the prefix. */
function cookieName(c: Context): string {
  return isLocalDev(c) ? "console_session" : "__Host-console_session";
}

export function readSessionCookie(c: Context): string | undefined {
  return getCookie(c, cookieName(c));
}

export function setSessionCookie(c: Context, secret: string): void {
  setCookie(c, cookieName(c), secret, {
    path: "/",
    httpOnly: true,
    secure: !isLocalDev(c),
    sameSite: "Strict",
    maxAge: SESSION_LIFETIME_MS / 1000,
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, cookieName(c), { path: "/", secure: !isLocalDev(c), httpOnly: true, sameSite: "Strict" });
}

const forbidden = () => new ApiError("forbidden", "This form was not sent from this console page. Reload the page and try again.");

/**
 * Every POST must come from a page of this host: browsers send Origin (and Sec-Fetch-Site) with
 * form posts, so a cross-site form is refused before anything runs, sign-in forms included.
 */
export const sameOriginPosts = createMiddleware<ConsoleEnv>(async (c, next) => {
  if (c.req.method === "POST") {
    const origin = c.req.header("Origin");
    const host = c.req.header("Host") ?? new URL(c.req.url).host;
    if (origin !== undefined && (origin === "null" || new URL(origin).host !== host)) throw forbidden();
    if (c.req.header("Sec-Fetch-Site") === "cross-site") throw forbidden();
  }
  await next();
});

/** The synchronizer token check for a signed-in form body. */
export async function checkCsrf(c: Context<ConsoleEnv>, form: Record<string, unknown>): Promise<void> {
  const sent = form._csrf;
  if (typeof sent !== "string" || !(await secretsEqual(sent, c.get("session").csrf))) throw forbidden();
}
