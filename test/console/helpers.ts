/** Console test helpers: an app with a hand-moved clock, form posts, and cookie handling. */
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { createApp } from "../../src/app";
import { manualClock } from "../../src/core/context";
import { BASE, PLATFORM_TOKEN } from "../helpers";

export const clock = manualClock(Date.now());
export const app = createApp({ clock });

export interface ConsoleRequest {
  method?: string;
  cookie?: string;
  form?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  scheme?: "https" | "http";
  env?: Record<string, unknown>;
}

export async function request(host: string, path: string, options: ConsoleRequest = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  headers.set("Host", host);
  if (options.cookie) headers.set("Cookie", options.cookie);
  let body: string | undefined;
  if (options.form) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(options.form)) for (const x of [v].flat()) params.append(k, x);
    body = params.toString();
    headers.set("Content-Type", "application/x-www-form-urlencoded");
  }
  const ctx = createExecutionContext();
  const res = await app.request(`${options.scheme ?? "https"}://${host}${path}`, { method: options.method ?? (body !== undefined ? "POST" : "GET"), headers, body, redirect: "manual" }, { ...env, ...options.env }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

export async function issueLink(slug: string): Promise<{ url: string; expiresAt: string; secret: string }> {
  const res = await request(BASE, `/platform/tenants/${slug}/console-links`, { method: "POST", headers: { Authorization: `Bearer ${PLATFORM_TOKEN}` } });
  if (res.status !== 201) throw new Error(`link: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { url: string; expiresAt: string };
  return { ...body, secret: new URL(body.url).searchParams.get("secret")! };
}

/** The `name=value` part of the session cookie a response sets. */
export function sessionCookieOf(res: Response): string {
  const set = res.headers.get("Set-Cookie") ?? "";
  const match = /((?:__Host-)?console_session=[^;]*)/.exec(set);
  if (!match) throw new Error(`no session cookie in: ${set}`);
  return match[1]!;
}

export async function signInByLink(slug: string, host: string): Promise<string> {
  const { secret } = await issueLink(slug);
  const res = await request(host, "/console/link", { form: { secret } });
  if (res.status !== 303) throw new Error(`sign-in: ${res.status} ${await res.text()}`);
  return sessionCookieOf(res);
}

/** The CSRF token a page's forms carry. */
export async function csrfOf(host: string, cookie: string, path = "/console/tokens"): Promise<string> {
  const html = await (await request(host, path, { cookie })).text();
  const match = /name="_csrf" value="([0-9a-f]{64})"/.exec(html);
  if (!match) throw new Error(`no csrf token on ${path}`);
  return match[1]!;
}
