/**
 * The typed client: `paths` (schema.ts) is generated from openapi/openapi.json by
 * `npm run client:generate`; openapi-fetch turns it into typed GET/POST/... calls. Runs wherever
 * `fetch` does: browsers, Workers, Deno, Node >= 18.
 */
import createFetchClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.ts";

export type { components, operations, paths } from "./schema.ts";
/** A schema by name, e.g. `Schema<"User">`. */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];
export type ProvisioningClient = Client<paths>;

export interface ClientOptions {
  /**
   * Where the API answers: the tenant's host for /v1 and /scim/v2 (`https://acme.example.com`),
   * the apex host for /platform. Local dev: `http://localhost:8787` for /platform; for a tenant,
   * `http://acme.localhost:8787` in browsers, or `@provisioning/client/node` with `tenantHost`.
   */
  baseUrl: string;
  /** A tenant API token (`prov_...`) or, on the apex host, the platform admin token. */
  token: string;
  /** Replaces the global fetch (tests, a service binding's `fetch`, retries). */
  fetch?: (request: Request) => Promise<Response>;
}

export function createClient({ baseUrl, token, fetch }: ClientOptions): ProvisioningClient {
  if (!/^https?:\/\//.test(baseUrl)) throw new TypeError(`createClient: baseUrl must be an http(s) URL such as https://acme.example.com, not '${baseUrl}'`);
  if (!token) throw new TypeError("createClient: token is required (a tenant API token prov_..., or the platform admin token on the apex host)");
  return createFetchClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ""),
    headers: { Authorization: `Bearer ${token}` },
    ...(fetch ? { fetch } : {}),
  });
}
