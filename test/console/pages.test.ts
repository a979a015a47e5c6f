/** Console pages: CSP and headers, CSRF, and actions going through the same core rules as the API. */
import { beforeAll, describe, expect, it } from "vitest";
import { CONTENT_SECURITY_POLICY } from "../../src/console/security";
import { createTenant, createUser, type TestTenant } from "../helpers";
import { csrfOf, request, signInByLink } from "./helpers";

let t: TestTenant;
let cookie: string;
let csrf: string;

beforeAll(async () => {
  t = await createTenant();
  cookie = await signInByLink(t.slug, t.host);
  csrf = await csrfOf(t.host, cookie);
});

const PAGES = ["/console/users", "/console/users/new", "/console/tokens", "/console/attributes", "/console/roles", "/console/identity-providers", "/console/collections", "/console/events", "/console/connect", "/console/rate-limits", "/console/sign-in"];

describe("headers and markup", () => {
  it("every page has a strict CSP and no inline script or style", async () => {
    expect(CONTENT_SECURITY_POLICY).not.toContain("unsafe-inline");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    for (const path of PAGES) {
      const res = await request(t.host, path, { cookie });
      expect(res.status, path).toBe(200);
      expect(res.headers.get("Content-Security-Policy"), path).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get("Cache-Control"), path).toBe("no-store");
      expect(res.headers.get("X-Frame-Options"), path).toBe("DENY");
      const html = await res.text();
      expect(html, path).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html, path).not.toMatch(/\sstyle="/);
      expect(html, path).not.toMatch(/\son[a-z]+="/);
    }
  });

  it("serves its stylesheet and script from /console/assets with long-lived caching", async () => {
    const html = await (await request(t.host, "/console/users", { cookie })).text();
    for (const path of [/href="(\/console\/assets\/[^"]+\.css)"/.exec(html)![1]!, /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1]!]) {
      const res = await request(t.host, path);
      expect(res.status).toBe(200);
      expect(res.headers.get("Cache-Control")).toContain("immutable");
    }
  });

  it("signed out, a page redirects to sign-in and a form post is refused", async () => {
    const page = await request(t.host, "/console/users");
    expect(page.status).toBe(303);
    expect(page.headers.get("Location")).toBe("/console/sign-in");
    expect((await request(t.host, "/console/tokens", { form: { name: "x", scopes: "admin" } })).status).toBe(401);
  });
});

describe("CSRF", () => {
  it("refuses a form without the session's token, or with another one", async () => {
    expect((await request(t.host, "/console/tokens", { cookie, form: { name: "no csrf", scopes: "admin" } })).status).toBe(403);
    expect((await request(t.host, "/console/tokens", { cookie, form: { _csrf: "0".repeat(64), name: "bad csrf", scopes: "admin" } })).status).toBe(403);
    const otherSession = await signInByLink(t.slug, t.host);
    const otherCsrf = await csrfOf(t.host, otherSession);
    expect((await request(t.host, "/console/tokens", { cookie, form: { _csrf: otherCsrf, name: "foreign csrf", scopes: "admin" } })).status).toBe(403);
    const list = await (await t.call("/v1/api-tokens")).json() as { data: Array<{ name: string }> };
    expect(list.data.map((x) => x.name)).not.toEqual(expect.arrayContaining(["no csrf", "bad csrf", "foreign csrf"]));
  });

  it("refuses a cross-site post even with the right token", async () => {
    const res = await request(t.host, "/console/tokens", { cookie, form: { _csrf: csrf, name: "cross", scopes: "admin" }, headers: { Origin: "https://evil.example" } });
    expect(res.status).toBe(403);
  });

  it("accepts the session's own form and shows the secret once", async () => {
    const res = await request(t.host, "/console/tokens", { cookie, form: { _csrf: csrf, name: "Workday", scopes: ["users:read", "users:write"] }, headers: { Origin: `https://${t.host}` } });
    expect(res.status).toBe(201);
    const html = await res.text();
    const secret = /value="(prov_[0-9A-Za-z]{42})"/.exec(html)![1]!;
    expect((await t.call("/v1/users", { token: secret })).status).toBe(200);
    expect(await (await request(t.host, "/console/tokens", { cookie })).text()).not.toContain(secret);
  });
});

describe("actions use the API's rules and messages", () => {
  it("token creation errors come back next to the field", async () => {
    const res = await request(t.host, "/console/tokens", { cookie, form: { _csrf: csrf, name: "" } });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain("must not be empty");
    expect(html).toContain("must list at least one scope");
  });

  it("a required attribute defined here blocks user creation through the console and the API alike", async () => {
    const define = await request(t.host, "/console/attributes", { cookie, form: { _csrf: csrf, key: "badge", type: "string", required: "true" } });
    expect(define.status).toBe(303);
    const form = { _csrf: csrf, firstName: "Grace", lastName: "Hopper", email: "grace@example.com", externalId: "GH-1" };
    const refused = await request(t.host, "/console/users", { cookie, form });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/id="f-attributes-badge-error"[^>]*>[^<]+/);
    const api = await t.call("/v1/users", { body: { firstName: "Grace", lastName: "Hopper", email: "grace@example.com", externalId: "GH-1" } });
    expect(api.status).toBe(400);
    const created = await request(t.host, "/console/users", { cookie, form: { ...form, "attributes.badge": "B-7" } });
    expect(created.status).toBe(303);
    expect(created.headers.get("Location")).toMatch(/^\/console\/users\/[0-9a-f-]{36}\?done=created$/);
  });

  it("a bad key is refused with the API's message", async () => {
    const res = await request(t.host, "/console/attributes", { cookie, form: { _csrf: csrf, key: "9lives", type: "string" } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("must start with a letter");
  });

  it("finds users by filter, deactivates, reactivates and erases only after typing the email", async () => {
    const user = await createUser(t, { department: "Forensics", attributes: { badge: "B-1" } });
    const found = await (await request(t.host, `/console/users?filter=${encodeURIComponent('department eq "Forensics"')}`, { cookie })).text();
    expect(found).toContain(user.email);
    const bad = await request(t.host, `/console/users?filter=${encodeURIComponent("department eq")}`, { cookie });
    expect(bad.status).toBe(400);
    expect((await request(t.host, `/console/users/${user.id}/deactivate`, { cookie, form: { _csrf: csrf } })).status).toBe(303);
    expect(((await (await t.call(`/v1/users/${user.id}`)).json()) as { active: boolean }).active).toBe(false);
    expect((await request(t.host, `/console/users/${user.id}/reactivate`, { cookie, form: { _csrf: csrf } })).status).toBe(303);
    expect(((await (await t.call(`/v1/users/${user.id}`)).json()) as { active: boolean }).active).toBe(true);
    const wrong = await request(t.host, `/console/users/${user.id}/erase`, { cookie, form: { _csrf: csrf, confirm: "nope" } });
    expect(wrong.status).toBe(400);
    expect((await t.call(`/v1/users/${user.id}`)).status).toBe(200);
    const erase = await request(t.host, `/console/users/${user.id}/erase`, { cookie, form: { _csrf: csrf, confirm: user.email } });
    expect(erase.status).toBe(303);
    expect((await t.call(`/v1/users/${user.id}`)).status).toBe(410);
  });

  it("records console changes as the console admin's in the audit log", async () => {
    // An earlier test made `badge` required for this tenant.
    const user = await createUser(t, { attributes: { badge: "B-2" } });
    expect((await request(t.host, `/console/users/${user.id}/deactivate`, { cookie, form: { _csrf: csrf } })).status).toBe(303);
    const res = await t.call(`/v1/audit-log?actorKind=console&subjectId=${user.id}`);
    expect(res.status).toBe(200);
    const entries = ((await res.json()) as { data: { type: string; actor: Record<string, unknown> }[] }).data;
    expect(entries.map((e) => e.type)).toContain("user.deactivated");
    expect(entries[0]!.actor).toMatchObject({ kind: "console", via: "link" });
    expect(entries[0]!.actor.tokenId).toBeUndefined();
  });

  it("connect an identity provider creates a SCIM-only token that works on /scim/v2", async () => {
    const res = await request(t.host, "/console/connect", { cookie, form: { _csrf: csrf, provider: "entra" } });
    expect(res.status).toBe(201);
    const html = await res.text();
    expect(html).toContain(`https://${t.host}/scim/v2`);
    expect(html).toContain("Tenant URL");
    const secret = /id="scim-token"[^>]*value="(prov_[0-9A-Za-z]{42})"|value="(prov_[0-9A-Za-z]{42})"[^>]*id="scim-token"/.exec(html)!;
    const token = secret[1] ?? secret[2]!;
    expect((await t.call("/scim/v2/Users", { token })).status).toBe(200);
    expect((await t.call("/v1/users", { token })).status).toBe(403);
  });
});
