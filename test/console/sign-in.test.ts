/** Console sign-in: one-time links, token sign-in, cookie flags, expiry, sign-out, tenant isolation. */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { purgeExpiredConsoleState } from "../../src/console/sessions";
import { createTenant, type TestTenant } from "../helpers";
import { clock, csrfOf, issueLink, request, sessionCookieOf, signInByLink } from "./helpers";

let t: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  t = await createTenant();
  other = await createTenant();
});

async function newToken(tenant: TestTenant, scopes: string[]) {
  const res = await tenant.call("/v1/api-tokens", { body: { name: `console ${scopes.join("+")}`, scopes } });
  expect(res.status).toBe(201);
  return (await res.json()) as { token: string; apiToken: { id: string } };
}

describe("sign-in links", () => {
  it("issues a one-time URL on the tenant's host, valid 15 minutes, stored only as a hash", async () => {
    const before = clock.now();
    const link = await issueLink(t.slug);
    const url = new URL(link.url);
    expect(url.host).toBe(t.host);
    expect(url.pathname).toBe("/console/link");
    expect(Date.parse(link.expiresAt)).toBe(before + 15 * 60_000);
    const rows = await env.DB.prepare("SELECT * FROM console_links WHERE tenant_id = ?").bind(t.id).all();
    expect(JSON.stringify(rows.results)).not.toContain(link.secret);
  });

  it("the link page does not use the link up; the POST does, once, and redirects away from the secret", async () => {
    const { secret } = await issueLink(t.slug);
    const page = await request(t.host, `/console/link?secret=${secret}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("Referrer-Policy")).toBe("same-origin");
    const first = await request(t.host, "/console/link", { form: { secret } });
    expect(first.status).toBe(303);
    expect(first.headers.get("Location")).toBe("/console/users");
    const again = await request(t.host, "/console/link", { form: { secret } });
    expect(again.status).toBe(401);
    expect(again.headers.get("Set-Cookie")).toBeNull();
    expect(await again.text()).toContain("already used, has expired");
  });

  it("expires after 15 minutes", async () => {
    const { secret } = await issueLink(t.slug);
    clock.advance(15 * 60_000 + 1);
    expect((await request(t.host, "/console/link", { form: { secret } })).status).toBe(401);
  });

  it("sets an HttpOnly, Secure, SameSite=Strict session cookie of at most 12 hours", async () => {
    const { secret } = await issueLink(t.slug);
    const res = await request(t.host, "/console/link", { form: { secret } });
    const cookie = res.headers.get("Set-Cookie")!;
    expect(cookie).toMatch(/^__Host-console_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("Secure");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/");
    expect(cookie).toContain("Max-Age=43200");
    const secretValue = sessionCookieOf(res).split("=")[1]!;
    const rows = await env.DB.prepare("SELECT * FROM console_sessions WHERE tenant_id = ?").bind(t.id).all();
    expect(JSON.stringify(rows.results)).not.toContain(secretValue);
  });

  it("drops Secure (and the __Host- prefix) only for plain http on *.localhost", async () => {
    const local = await request(`${t.slug}.localhost`, "/console/sign-in", { scheme: "http", env: { BASE_DOMAIN: "localhost" }, form: { token: t.token } });
    expect(local.status).toBe(303);
    const cookie = local.headers.get("Set-Cookie")!;
    expect(cookie).toMatch(/^console_session=/);
    expect(cookie).not.toContain("Secure");
    expect(cookie).toContain("HttpOnly");
  });

  it("a session lasts 12 hours", async () => {
    const cookie = await signInByLink(t.slug, t.host);
    clock.advance(12 * 60 * 60_000 - 1000);
    expect((await request(t.host, "/console/users", { cookie })).status).toBe(200);
    clock.advance(2000);
    const res = await request(t.host, "/console/users", { cookie });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toContain("/console/sign-in");
  });

  it("a link of one tenant does not work on another tenant's host, and stays usable on its own", async () => {
    const { secret } = await issueLink(t.slug);
    expect((await request(other.host, "/console/link", { form: { secret } })).status).toBe(401);
    expect((await request(t.host, "/console/link", { form: { secret } })).status).toBe(303);
  });

  it("the platform operator can end every console session of a tenant", async () => {
    const cookie = await signInByLink(t.slug, t.host);
    const res = await request("example.test", `/platform/tenants/${t.slug}/console-sessions`, { method: "DELETE", headers: { Authorization: "Bearer test-platform-admin-token" } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { revoked: number }).revoked).toBeGreaterThanOrEqual(1);
    expect((await request(t.host, "/console/users", { cookie })).status).toBe(303);
  });
});

describe("token sign-in and sessions", () => {
  it("refuses a token without the admin scope, saying why next to the field", async () => {
    const { token } = await newToken(t, ["users:read", "users:write"]);
    const res = await request(t.host, "/console/sign-in", { form: { token } });
    expect(res.status).toBe(403);
    expect(res.headers.get("Set-Cookie")).toBeNull();
    expect(await res.text()).toContain("lacks the admin scope");
  });

  it("refuses another tenant's admin token", async () => {
    const res = await request(t.host, "/console/sign-in", { form: { token: other.token } });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("belongs to another tenant");
  });

  it("ends the session when the token behind it is disabled", async () => {
    const { token, apiToken } = await newToken(t, ["admin"]);
    const res = await request(t.host, "/console/sign-in", { form: { token } });
    expect(res.status).toBe(303);
    const cookie = sessionCookieOf(res);
    expect((await request(t.host, "/console/users", { cookie })).status).toBe(200);
    expect((await t.call(`/v1/api-tokens/${apiToken.id}`, { method: "DELETE" })).status).toBe(200);
    const after = await request(t.host, "/console/users", { cookie });
    expect(after.status).toBe(303);
    expect(after.headers.get("Location")).toBe("/console/sign-in?ended=1");
  });

  it("one tenant's session is useless on another tenant's host", async () => {
    const cookie = await signInByLink(t.slug, t.host);
    expect((await request(t.host, "/console/users", { cookie })).status).toBe(200);
    const res = await request(other.host, "/console/users", { cookie });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toContain("/console/sign-in");
  });

  it("sign-out ends the session for good", async () => {
    const cookie = await signInByLink(t.slug, t.host);
    const csrf = await csrfOf(t.host, cookie);
    const res = await request(t.host, "/console/sign-out", { cookie, form: { _csrf: csrf } });
    expect(res.status).toBe(303);
    expect(res.headers.get("Set-Cookie")).toMatch(/Max-Age=0/);
    expect((await request(t.host, "/console/users", { cookie })).status).toBe(303);
    expect((await request(t.host, "/console/tokens", { cookie, form: { _csrf: csrf, name: "x", scopes: "admin" } })).status).toBe(401);
  });
});

describe("purging expired console state", () => {
  it("the cron deletes expired links and sessions of every tenant and keeps live ones", async () => {
    const tenant = await createTenant();
    await issueLink(tenant.slug);
    await signInByLink(tenant.slug, tenant.host);
    const count = async (table: string) => (await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = ?`).bind(tenant.id).first<number>("n")) ?? 0;
    expect(await count("console_links")).toBe(2);
    expect(await count("console_sessions")).toBe(1);
    const db = createDb(env.DB);
    await purgeExpiredConsoleState(db, clock.now());
    expect(await count("console_links")).toBe(2);
    expect(await count("console_sessions")).toBe(1);
    // After the 12-hour session lifetime, both links (15 minutes) and the session are gone.
    await purgeExpiredConsoleState(db, clock.now() + 12 * 60 * 60_000 + 1);
    expect(await count("console_links")).toBe(0);
    expect(await count("console_sessions")).toBe(0);
  });
});
