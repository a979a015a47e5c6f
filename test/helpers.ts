/** Test helpers: requests through the real Worker entry (tenancy, auth, D1), never around it. */
import { exports } from "cloudflare:workers";

export const BASE = "example.test";
export const PLATFORM_TOKEN = "test-platform-admin-token";

export interface CallOptions {
  method?: string;
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export async function call(host: string, path: string, options: CallOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  if (options.token !== undefined) headers.set("Authorization", `Bearer ${options.token}`);
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  return exports.default.fetch(new Request(`https://${host}${path}`, { method: options.method ?? (body ? "POST" : "GET"), headers, body }));
}

export function platform(path: string, options: CallOptions = {}): Promise<Response> {
  return call(BASE, path, { token: PLATFORM_TOKEN, ...options });
}

let counter = 0;
export function uniqueSlug(prefix = "t"): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}`;
}

export interface TestTenant {
  slug: string;
  host: string;
  token: string;
  id: string;
  /** Calls the tenant's host with its admin token unless another is given. */
  call(path: string, options?: CallOptions): Promise<Response>;
}

export async function createTenant(slug = uniqueSlug()): Promise<TestTenant> {
  const res = await platform("/platform/tenants", { body: { slug, name: `Tenant ${slug}` } });
  if (res.status !== 201) throw new Error(`tenant create failed: ${res.status} ${await res.text()}`);
  const json = (await res.json()) as { tenant: { id: string }; token: string };
  const host = `${slug}.${BASE}`;
  return {
    slug,
    host,
    token: json.token,
    id: json.tenant.id,
    call: (path, options = {}) => call(host, path, { token: json.token, ...options }),
  };
}

let userCounter = 0;
export function newUser(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  userCounter += 1;
  const n = `${Date.now().toString(36)}${userCounter}`;
  return { firstName: "Ada", lastName: `Lovelace${n}`, email: `ada.${n}@example.com`, externalId: `EXT-${n}`, ...overrides };
}

export async function createUser(tenant: TestTenant, overrides: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const res = await tenant.call("/v1/users", { body: newUser(overrides) });
  if (res.status !== 201) throw new Error(`user create failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, any>;
}

export async function problem(res: Response): Promise<Record<string, any>> {
  const type = res.headers.get("Content-Type") ?? "";
  if (!type.startsWith("application/problem+json")) throw new Error(`expected problem+json, got ${type}: ${await res.text()}`);
  return (await res.json()) as Record<string, any>;
}
