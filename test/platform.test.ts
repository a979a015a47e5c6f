/** The platform API on the apex host: auth, tenants, suspension, custom domains. */
import { describe, expect, it } from "vitest";
import { BASE, call, createTenant, platform, problem, uniqueSlug } from "./helpers";

describe("platform auth", () => {
  it("refuses a missing or wrong admin token", async () => {
    const none = await call(BASE, "/platform/tenants");
    expect(none.status).toBe(401);
    expect(none.headers.get("WWW-Authenticate")).toMatch(/Bearer/);
    const wrong = await platform("/platform/tenants", { token: "test-platform-admin-tokeN" });
    expect(wrong.status).toBe(401);
    expect((await problem(wrong)).code).toBe("unknown_token");
  });

  it("answers only on the apex host", async () => {
    const t = await createTenant();
    const res = await call(t.host, "/platform/tenants", { token: "test-platform-admin-token" });
    expect(res.status).toBe(404);
  });

  it("tenant APIs do not answer on the apex host", async () => {
    const res = await platform("/v1/users");
    expect(res.status).toBe(404);
    expect((await problem(res)).code).toBe("tenant_not_found");
  });
});

describe("tenants", () => {
  it("creates a tenant with a working first admin token, shown once", async () => {
    const slug = uniqueSlug("acme");
    const res = await platform("/platform/tenants", { body: { slug, name: "Acme" } });
    expect(res.status).toBe(201);
    expect(res.headers.get("Location")).toBe(`/platform/tenants/${slug}`);
    const body = (await res.json()) as { tenant: { slug: string; suspended: boolean }; token: string };
    expect(body.tenant).toMatchObject({ slug, suspended: false });
    const me = await call(`${slug}.${BASE}`, "/v1/api-tokens", { token: body.token });
    expect(me.status).toBe(200);
    const tokens = (await me.json()) as { data: Array<{ scopes: string[] }> };
    expect(tokens.data[0]!.scopes).toEqual(expect.arrayContaining(["admin", "users:read", "users:write", "scim"]));
    const again = await platform(`/platform/tenants/${slug}`);
    expect(JSON.stringify(await again.json())).not.toContain(body.token);
  });

  it("rejects slugs that are not DNS labels and duplicate slugs", async () => {
    for (const slug of ["Acme", "-acme", "acme-", "a_b", "a.b", "x".repeat(64), ""]) {
      const res = await platform("/platform/tenants", { body: { slug, name: "X" } });
      expect(res.status, slug).toBe(400);
      expect((await problem(res)).errors[0].path).toBe("slug");
    }
    const slug = uniqueSlug();
    expect((await platform("/platform/tenants", { body: { slug, name: "One" } })).status).toBe(201);
    const dup = await platform("/platform/tenants", { body: { slug, name: "Two" } });
    expect(dup.status).toBe(409);
    expect((await problem(dup)).errors[0].path).toBe("slug");
  });

  it("lists tenants with cursor paging", async () => {
    for (let i = 0; i < 3; i++) await createTenant();
    const first = (await (await platform("/platform/tenants?limit=2")).json()) as { data: Array<{ slug: string }>; pagination: { nextCursor: string | null } };
    expect(first.data).toHaveLength(2);
    expect(first.pagination.nextCursor).toBeTruthy();
    const second = (await (await platform(`/platform/tenants?limit=2&cursor=${first.pagination.nextCursor}`)).json()) as { data: Array<{ slug: string }> };
    expect(second.data[0]!.slug > first.data[1]!.slug).toBe(true);
  });

  it("suspends and reinstates a tenant", async () => {
    const t = await createTenant();
    const sus = await platform(`/platform/tenants/${t.slug}`, { method: "PATCH", body: { suspended: true, name: "Renamed" } });
    expect(sus.status).toBe(200);
    expect(await sus.json()).toMatchObject({ suspended: true, name: "Renamed" });
    const blocked = await t.call("/v1/users");
    expect(blocked.status).toBe(403);
    expect((await problem(blocked)).code).toBe("tenant_suspended");
    await platform(`/platform/tenants/${t.slug}`, { method: "PATCH", body: { suspended: false } });
    expect((await t.call("/v1/users")).status).toBe(200);
  });

  it("404s unknown tenants and unknown tenant hosts", async () => {
    expect((await platform("/platform/tenants/does-not-exist")).status).toBe(404);
    const res = await call(`does-not-exist.${BASE}`, "/v1/users", { token: "x" });
    expect(res.status).toBe(404);
    expect((await problem(res)).code).toBe("tenant_not_found");
  });
});

describe("custom domains", () => {
  it("routes a mapped hostname to its tenant until it is unmapped", async () => {
    const t = await createTenant();
    const hostname = `users.${t.slug}.example.com`;
    expect((await call(hostname, "/v1/users", { token: t.token })).status).toBe(404);
    const add = await platform(`/platform/tenants/${t.slug}/domains`, { body: { hostname: hostname.toUpperCase() } });
    expect(add.status).toBe(201);
    expect(((await add.json()) as { domains: Array<{ hostname: string }> }).domains[0]!.hostname).toBe(hostname);
    expect((await call(hostname, "/v1/users", { token: t.token })).status).toBe(200);
    expect((await call(`${hostname}:443`, "/v1/users", { token: t.token, headers: { Host: `${hostname}:443` } })).status).toBe(200);
    const del = await platform(`/platform/tenants/${t.slug}/domains/${hostname}`, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect((await call(hostname, "/v1/users", { token: t.token })).status).toBe(404);
  });

  it("refuses invalid, taken and base-domain hostnames", async () => {
    const a = await createTenant();
    const b = await createTenant();
    for (const hostname of ["not a host", "https://x.com", "x.com:8080", "localhost"]) {
      const res = await platform(`/platform/tenants/${a.slug}/domains`, { body: { hostname } });
      expect(res.status, hostname).toBe(400);
    }
    const under = await platform(`/platform/tenants/${a.slug}/domains`, { body: { hostname: `evil.${BASE}` } });
    expect(under.status).toBe(409);
    const hostname = `sso.${a.slug}.example.org`;
    expect((await platform(`/platform/tenants/${a.slug}/domains`, { body: { hostname } })).status).toBe(201);
    expect((await platform(`/platform/tenants/${b.slug}/domains`, { body: { hostname } })).status).toBe(409);
    expect((await platform(`/platform/tenants/${b.slug}/domains/${hostname}`, { method: "DELETE" })).status).toBe(404);
  });
});

describe("configuration edges", () => {
  it("without PLATFORM_ADMIN_TOKEN the platform API refuses every request", async () => {
    const { env } = await import("cloudflare:workers");
    const { createApp } = await import("../src/app");
    const { createExecutionContext } = await import("cloudflare:test");
    const app = createApp();
    const bare = { ...env, PLATFORM_ADMIN_TOKEN: undefined };
    for (const token of ["", "test-platform-admin-token", "anything"]) {
      const res = await app.request(`https://${BASE}/platform/tenants`, { headers: token ? { Authorization: `Bearer ${token}` } : {} }, bare, createExecutionContext());
      expect(res.status).toBe(403);
      expect((await problem(res)).code).toBe("platform_disabled");
    }
  });

  it("the isolate cache serves a host for TENANT_CACHE_SECONDS, then sees changes", async () => {
    const { env } = await import("cloudflare:workers");
    const { createDb } = await import("../src/db/client");
    const { resolveHost } = await import("../src/tenancy/resolve");
    const db = createDb(env.DB);
    const t = await createTenant();
    const first = await resolveHost(db, t.host, BASE, 1);
    expect(first).toMatchObject({ kind: "tenant", tenant: { suspended: false } });
    await env.DB.prepare("UPDATE tenants SET suspended = 1 WHERE id = ?").bind(t.id).run();
    expect(await resolveHost(db, t.host, BASE, 1)).toMatchObject({ tenant: { suspended: false } });
    await new Promise((r) => setTimeout(r, 1100));
    expect(await resolveHost(db, t.host, BASE, 1)).toMatchObject({ tenant: { suspended: true } });
  });
});
