/**
 * Node only: `createClient({ baseUrl, token, tenantHost })` reaches a tenant through an address
 * that is not its host name, e.g. `http://127.0.0.1:8787` for `acme.localhost` in local dev. Node's
 * fetch cannot do this: it drops a `Host` header (checked on Node 20 and 24), and its resolver does
 * not know `*.localhost` (browsers and curl do). So with `tenantHost` the requests go out through
 * node:http, which sends the Host header as given.
 */
import http from "node:http";
import https from "node:https";
import { createClient as createFetchClient, type ClientOptions, type ProvisioningClient } from "./index.ts";

export * from "./index.ts";

export interface NodeClientOptions extends ClientOptions {
  /** The tenant's host (with port if not the default), e.g. `acme.localhost:8787`, sent as Host to baseUrl's address. */
  tenantHost?: string;
}

export function createClient({ tenantHost, ...options }: NodeClientOptions): ProvisioningClient {
  if (tenantHost === undefined) return createFetchClient(options);
  if (!/^[a-z0-9.-]+(:\d+)?$/i.test(tenantHost)) throw new TypeError(`createClient: tenantHost must be a host name with an optional port, such as acme.localhost:8787, not '${tenantHost}'`);
  return createFetchClient({ ...options, fetch: fetchWithHost(tenantHost) });
}

/** A fetch that sends each request to its URL's address with `Host: host`. Buffers bodies (API payloads are small). */
export function fetchWithHost(host: string): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = Object.fromEntries(request.headers);
    headers.host = host;
    if (body) headers["content-length"] = String(body.length);
    const transport = url.protocol === "https:" ? https : http;
    return new Promise<Response>((resolve, reject) => {
      const req = transport.request(url, { method: request.method, headers, servername: host.replace(/:\d+$/, ""), signal: request.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(name, v);
          }
          const status = res.statusCode ?? 502;
          // A Response with a body and a null-body status (204, 304) is a TypeError.
          const nullBody = status === 204 || status === 304 || request.method === "HEAD";
          resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? "", headers: responseHeaders }));
        });
      });
      req.on("error", reject);
      req.end(body);
    });
  };
}
