/**
 * Recovery: POST /platform/tenants/{slug}/admin-tokens issues a new admin token for a tenant that
 * lost its own, with the platform admin token on the apex host only, audited in the tenant's trail.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { FIRST_TOKEN_SCOPES } from "../src/auth/tokens";
import { BASE, call, createTenant, PLATFORM_TOKEN, platform, problem, uniqueSlug, type TestTenant } from "./helpers";

let t: TestTenant;
beforeAll(async () => {
  t = await createTenant();
});

interface Issued {
  tenant: { id: string; slug: string; name: string };
  token: string;
  apiToken: { id: string; name: string; scopes: string[]; expiresAt: string | null; active: boolean };
}

const issue = (slug: string, options: Parameters<typeof platform>[1] = {}) => platform(`/platform/tenants/${slug}/admin-tokens`, { method: "POST", ...options });

describe("POST /platform/tenants/{slug}/admin-tokens", () => {
  it("without a body: 201, Location on the tenant's host, the secret once, a first token's scopes", async () => {
    const res = await issue(t.slug);
    expect(res.status).toBe(201);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = (await res.json()) as Issued;
    expect(body.tenant).toEqual({ id: t.id, slug: t.slug, name: `Tenant ${t.slug}` });
    expect(body.token).toMatch(/^prov_[0-9A-Za-z]{42}$/);
    expect(body.apiToken).toMatchObject({ name: "Recovery admin token", scopes: FIRST_TOKEN_SCOPES, expiresAt: null, active: true });
    expect(res.headers.get("Location")).toBe(`https://${t.host}/v1/api-tokens/${body.apiToken.id}`);

    // The new token works (it can administer tokens), and the old one still does.
    const me = await t.call("/v1/me", { token: body.token });
    expect(((await me.json()) as { token: { id: string } }).token.id).toBe(body.apiToken.id);
    expect((await t.call(`/v1/api-tokens/${body.apiToken.id}`, { token: body.token })).status).toBe(200);
    expect((await t.call("/v1/users")).status).toBe(200);
    // The secret is never shown again.
    const listed = await (await t.call("/v1/api-tokens", { token: body.token })).text();
    expect(listed).toContain(body.apiToken.id);
    expect(listed).not.toContain(body.token);
  });

  it("is in the tenant's audit trail as api_token.created by the platform, without the secret", async () => {
    const body = (await (await issue(t.slug, { body: { name: "Lost laptop recovery" } })).json()) as Issued;
    const res = await t.call(`/v1/audit-log?subjectId=${body.apiToken.id}`);
    const entries = ((await res.json()) as { data: Array<{ type: string; actor: { kind: string }; data: { apiToken: { name: string } } }> }).data;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ type: "api_token.created", actor: { kind: "platform" }, data: { apiToken: { name: "Lost laptop recovery" } } });
    expect(JSON.stringify(entries)).not.toContain(body.token);
  });

  it("takes a name and an expiry", async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const res = await issue(t.slug, { body: { name: "  Break-glass  ", expiresAt } });
    expect(res.status).toBe(201);
    expect(((await res.json()) as Issued).apiToken).toMatchObject({ name: "Break-glass", expiresAt });
  });

  it("refuses a bad body naming the field: past expiry, empty name, scopes (fixed), unknown fields", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ expiresAt: new Date(Date.now() - 1000).toISOString() }, "expiresAt"],
      [{ expiresAt: "tomorrow" }, "expiresAt"],
      [{ name: "   " }, "name"],
      [{ scopes: ["users:read"] }, "scopes"],
    ];
    for (const [body, field] of cases) {
      const res = await issue(t.slug, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify((await problem(res)).errors)).toContain(field);
    }
  });

  it("writes on the tenant's own shard (a tenant placed in the EU)", async () => {
    const slug = uniqueSlug("eu");
    expect((await platform("/platform/tenants", { body: { slug, name: "EU Co", dataRegion: "eu" } })).status).toBe(201);
    const body = (await (await issue(slug)).json()) as Issued;
    const me = await call(`${slug}.${BASE}`, "/v1/me", { token: body.token });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { tenant: { slug: string } }).tenant.slug).toBe(slug);
  });

  it("404 for an unknown slug", async () => {
    const res = await issue(uniqueSlug("nobody"));
    expect(res.status).toBe(404);
    expect((await problem(res)).code).toBe("not_found");
  });

  it("401 without the platform admin token, or with the tenant's own token; nothing issued", async () => {
    const before = ((await (await t.call("/v1/api-tokens")).json()) as { data: unknown[] }).data.length;
    const none = await call(BASE, `/platform/tenants/${t.slug}/admin-tokens`, { method: "POST" });
    expect(none.status).toBe(401);
    expect((await problem(none)).code).toBe("missing_token");
    const tenantToken = await issue(t.slug, { token: t.token });
    expect(tenantToken.status).toBe(401);
    expect((await problem(tenantToken)).code).toBe("unknown_token");
    const after = ((await (await t.call("/v1/api-tokens")).json()) as { data: unknown[] }).data.length;
    expect(after).toBe(before);
  });

  it("refused on a tenant host, even with the platform admin token", async () => {
    const res = await call(t.host, `/platform/tenants/${t.slug}/admin-tokens`, { method: "POST", token: PLATFORM_TOKEN });
    expect(res.status).toBe(404);
    expect((await problem(res)).detail).toMatch(/answers only on example\.test/);
  });
});
