/**
 * CORS: only configured origins, preflights answered before tenancy, limits and auth, and the
 * origin and exposed headers on every actual response (errors included). Never on /platform.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { allowedOrigins, CORS_EXPOSED_HEADERS, CORS_REQUEST_HEADERS } from "../src/http/cors";
import { memoryLimiter } from "../src/limits/memory";
import { manualClock } from "../src/core/context";
import { countedFetch } from "./support/counting-bindings";
import { BASE, createTenant, PLATFORM_TOKEN, type TestTenant } from "./helpers";

const APP = "https://app.example.com";
const ORIGINS = `${APP}, https://Admin.Example.com/ ,*,null`;

let t: TestTenant;
beforeAll(async () => {
  t = await createTenant();
});

const app = createApp();

/** `origins` null: the variable is not set at all. */
async function send(url: string, init: RequestInit & { headers?: Record<string, string> } = {}, origins: string | null = ORIGINS) {
  const ctx = createExecutionContext();
  const bindings: Record<string, unknown> = { ...env, CORS_ALLOWED_ORIGINS: origins };
  if (origins === null) delete bindings.CORS_ALLOWED_ORIGINS;
  const res = await app.fetch(new Request(url, init), bindings as unknown as typeof env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

function preflight(url: string, origin = APP, origins: string | null = ORIGINS) {
  return send(url, { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization, content-type, if-match" } }, origins);
}

function expectNoCors(res: Response): void {
  for (const [name] of res.headers) expect(name.toLowerCase().startsWith("access-control-"), name).toBe(false);
}

describe("configuration", () => {
  it("exact origins only: trimmed, lower-cased, trailing slash dropped, * and null ignored", () => {
    expect([...allowedOrigins(ORIGINS)]).toEqual([APP, "https://admin.example.com"]);
    expect(allowedOrigins(undefined).size).toBe(0);
    expect(allowedOrigins(" , ").size).toBe(0);
  });
});

describe("preflight", () => {
  it("an allowed origin: 204 without a token, with methods, headers, max age and Vary", async () => {
    const res = await preflight(`https://${t.host}/v1/users/some-id`);
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(APP);
    expect(res.headers.get("Access-Control-Allow-Methods")).toBe("GET, HEAD, POST, PUT, PATCH, DELETE");
    const allowHeaders = res.headers.get("Access-Control-Allow-Headers")!.split(", ");
    for (const h of ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match", "Accept"]) expect(allowHeaders).toContain(h);
    expect(allowHeaders).toEqual(CORS_REQUEST_HEADERS);
    expect(res.headers.get("Access-Control-Max-Age")).toBe("7200");
    expect(res.headers.get("Vary")).toBe("Origin");
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });

  it("costs no D1 or Durable Object call (not counted against the rate limits), even on an unknown host", async () => {
    for (const host of [t.host, `nobody-here.${BASE}`]) {
      const { response, counts } = await countedFetch(
        app,
        new Request(`https://${host}/scim/v2/Users`, { method: "OPTIONS", headers: { Origin: APP, "Access-Control-Request-Method": "POST" } }),
        env,
        { overrides: { CORS_ALLOWED_ORIGINS: APP, RATE_LIMIT_ENABLED: "true", TENANT_CACHE_SECONDS: "0" }, createContext: createExecutionContext, waitOn: waitOnExecutionContext },
      );
      expect(response.status).toBe(204);
      expect([counts.d1, counts.do]).toEqual([0, 0]);
    }
  });

  it("still answered when the per-IP limit is exhausted", async () => {
    const clock = manualClock();
    const limited = createApp({ clock, limiter: memoryLimiter(clock) });
    const headers = { "CF-Connecting-IP": "198.19.9.9", Authorization: `Bearer ${t.token}` };
    const over = { ...env, CORS_ALLOWED_ORIGINS: APP, RATE_LIMIT_IP_PER_SECOND: "1" };
    const fetchOnce = async (init: RequestInit) => {
      const ctx = createExecutionContext();
      const res = await limited.fetch(new Request(`https://${t.host}/v1/me`, init), over, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    expect((await fetchOnce({ headers })).status).toBe(200);
    const refused = await fetchOnce({ headers: { ...headers, Origin: APP } });
    expect(refused.status).toBe(429);
    // The refusal is readable by the script: origin and Retry-After exposed.
    expect(refused.headers.get("Access-Control-Allow-Origin")).toBe(APP);
    expect(refused.headers.get("Access-Control-Expose-Headers")).toContain("Retry-After");
    expect((await fetchOnce({ method: "OPTIONS", headers: { ...headers, Origin: APP, "Access-Control-Request-Method": "GET" } })).status).toBe(204);
  });

  it("a disallowed origin gets no CORS headers (the OPTIONS goes on and needs a token)", async () => {
    const res = await preflight(`https://${t.host}/v1/users`, "https://evil.example.net");
    expect(res.status).toBe(401);
    expectNoCors(res);
    expect(res.headers.get("Vary")).toContain("Origin");
  });

  it("without CORS_ALLOWED_ORIGINS no CORS header at all", async () => {
    for (const origins of [null, ""]) {
      const res = await preflight(`https://${t.host}/v1/users`, APP, origins);
      expect(res.status).toBe(401);
      expectNoCors(res);
      expect(res.headers.get("Vary") ?? "").not.toContain("Origin");
    }
  });

  it("a plain OPTIONS (no Access-Control-Request-Method) is not a preflight: Allow, as before", async () => {
    const res = await send(`https://${t.host}/v1/users`, { method: "OPTIONS", headers: { Origin: APP, Authorization: `Bearer ${t.token}` } });
    expect(res.status).toBe(204);
    expect(res.headers.get("Allow")).toContain("POST");
    expect(res.headers.get("Access-Control-Allow-Methods")).toBeNull();
  });

  it("not on /platform nor /console", async () => {
    for (const path of ["/platform/tenants", "/console/login"]) expectNoCors(await preflight(`https://${BASE}${path}`));
    const real = await send(`https://${BASE}/platform/tenants`, { headers: { Origin: APP, Authorization: `Bearer ${PLATFORM_TOKEN}` } });
    expect(real.status).toBe(200);
    expectNoCors(real);
  });
});

describe("actual responses", () => {
  it("a success carries the origin, the exposed headers and Vary: Origin", async () => {
    const res = await send(`https://${t.host}/v1/me`, { headers: { Origin: APP, Authorization: `Bearer ${t.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(APP);
    const exposed = res.headers.get("Access-Control-Expose-Headers")!.split(", ");
    expect(exposed).toEqual(CORS_EXPOSED_HEADERS);
    for (const h of ["ETag", "Location", "Link", "X-Request-Id", "Retry-After", "RateLimit", "RateLimit-Policy", "Idempotent-Replayed"]) expect(exposed).toContain(h);
    expect(res.headers.get("Vary")).toContain("Origin");
  });

  it("a 401 carries them too, so the script can read why", async () => {
    const res = await send(`https://${t.host}/v1/users`, { headers: { Origin: "https://admin.example.com" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("https://admin.example.com");
    expect(res.headers.get("Access-Control-Expose-Headers")).toContain("WWW-Authenticate");
  });

  it("SCIM, /openapi.json and a 404 route get them; a disallowed origin does not", async () => {
    for (const url of [`https://${t.host}/scim/v2/Users`, `https://${t.host}/scim/v2`, `https://${t.host}/openapi.json`, `https://${t.host}/docs`, `https://${t.host}/v1/nothing-here`]) {
      const res = await send(url, { headers: { Origin: APP, Authorization: `Bearer ${t.token}` } });
      expect(res.headers.get("Access-Control-Allow-Origin"), url).toBe(APP);
      const denied = await send(url, { headers: { Origin: "https://app.example.com.evil.net", Authorization: `Bearer ${t.token}` } });
      expectNoCors(denied);
    }
  });

  it("a request without Origin (a server, curl) gets no CORS header, only Vary", async () => {
    const res = await send(`https://${t.host}/v1/me`, { headers: { Authorization: `Bearer ${t.token}` } });
    expect(res.status).toBe(200);
    expectNoCors(res);
    expect(res.headers.get("Vary")).toContain("Origin");
  });
});
