/** SCIM protocol behaviour: auth, media types, tenancy, paging, shaping, ETags, PATCH atomicity, errors. */
import { beforeAll, describe, expect, it } from "vitest";
import { call, createTenant, createUser, platform, problem, type TestTenant } from "../helpers";
import { CORE, ENTERPRISE, LIST, TENANT_EXT, createScimUser, patch, scim, scimBody, scimError, scimUser } from "./helpers";

async function tokenWith(t: TestTenant, scopes: string[]): Promise<string> {
  const res = await t.call("/v1/api-tokens", { body: { name: `t-${scopes.join("-")}`, scopes } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

describe("auth and media types", () => {
  let t: TestTenant;
  beforeAll(async () => {
    t = await createTenant();
  });

  it("a token without the scim scope is told it is not a SCIM token", async () => {
    const token = await tokenWith(t, ["users:read", "users:write"]);
    const body = await scimError(await scim(t, "/Users", { token }), 403);
    expect(body.detail).toContain("not a SCIM token");
  });

  it("a SCIM-only token on /v1 is told it is a SCIM-only token", async () => {
    const token = await tokenWith(t, ["scim"]);
    expect((await scim(t, "/Users", { token })).status).toBe(200);
    const res = await t.call("/v1/users", { token });
    expect(res.status).toBe(403);
    expect((await problem(res)).detail).toContain("SCIM-only token");
  });

  it("missing, malformed and other-tenant tokens get SCIM 401s", async () => {
    const other = await createTenant();
    await scimError(await call(t.host, "/scim/v2/Users"), 401);
    await scimError(await scim(t, "/Users", { token: "prov_nope" }), 401);
    await scimError(await scim(t, "/Users", { token: other.token }), 401);
  });

  it("every response is application/scim+json, including route errors and 405-ish paths", async () => {
    await scimError(await scim(t, "/Nope"), 404);
    const wrongMethod = await scim(t, "/Users", { method: "DELETE" });
    expect(wrongMethod.headers.get("Allow")).toBe("GET, HEAD, POST");
    await scimError(wrongMethod, 405);
    await scimError(await scim(t, "/Me"), 501);
    await scimError(await scim(t, "/Users", { method: "POST", rawBody: "{not json", headers: { "Content-Type": "application/scim+json" } }), 400, "invalidSyntax");
    await scimError(await scim(t, "/Users", { method: "POST", rawBody: "<xml/>", headers: { "Content-Type": "text/xml" } }), 415);
    await scimError(await call(`nope.example.test`, "/scim/v2/Users", { token: t.token }), 404);
  });

  it("userName is required; a missing tenant-required attribute is 400 invalidValue naming it", async () => {
    const missing = await scimError(await scim(t, "/Users", { method: "POST", body: { ...scimUser(), userName: undefined } }), 400, "invalidValue");
    expect(missing.detail).toContain("userName");
    const noName = await scimError(await scim(t, "/Users", { method: "POST", body: { ...scimUser(), name: { givenName: "A" } } }), 400, "invalidValue");
    expect(noName.detail).toContain("name.familyName");
    const res = await t.call("/v1/available-attributes", { body: { key: "badge", type: "string", required: true } });
    expect(res.status).toBe(201);
    const err = await scimError(await scim(t, "/Users", { method: "POST", body: scimUser() }), 400, "invalidValue");
    expect(err.detail).toContain(`${TENANT_EXT}:badge`);
    const ok = await scim(t, "/Users", { method: "POST", body: { ...scimUser(), schemas: [CORE, TENANT_EXT], [TENANT_EXT]: { badge: "B-7" } } });
    expect(ok.status).toBe(201);
    const u = await scimBody(ok);
    expect(u[TENANT_EXT]).toEqual({ badge: "B-7" });
    expect(u.schemas).toContain(TENANT_EXT);
    // Same user over REST, custom attribute included.
    expect(((await (await t.call(`/v1/users/${u.id}`)).json()) as any).attributes).toEqual({ badge: "B-7" });
    // Clearing it by PATCH is refused, by name.
    const clear = await scimError(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "remove", path: `${TENANT_EXT}:badge` }) }), 400, "invalidValue");
    expect(clear.detail).toContain("badge");
  });
});

describe("REST and SCIM are the same users", () => {
  it("a REST user appears over SCIM with its email as userName, and SCIM changes show over REST", async () => {
    const t = await createTenant();
    const rest = await createUser(t, { title: "Engineer" });
    const found = await scimBody(await scim(t, `/Users?filter=${encodeURIComponent(`userName eq "${rest.email}"`)}`));
    expect(found.totalResults).toBe(1);
    const u = found.Resources[0];
    expect(u).toMatchObject({ id: rest.id, userName: rest.email, externalId: rest.externalId, title: "Engineer", name: { givenName: rest.firstName, familyName: rest.lastName } });
    await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: `${ENTERPRISE}:costCenter`, value: "CC-9" }, { op: "replace", path: "active", value: false }) });
    const after = (await (await t.call(`/v1/users/${u.id}`)).json()) as any;
    expect(after).toMatchObject({ costCenter: "CC-9", active: false, userName: rest.email });
    // Written back unchanged over SCIM (Okta's GET then PUT), userName stays "the email": a later
    // REST email change moves the userName along.
    const full = await scimBody(await scim(t, `/Users/${u.id}`));
    expect((await scim(t, `/Users/${u.id}`, { method: "PUT", body: full })).status).toBe(200);
    await t.call(`/v1/users/${u.id}`, { method: "PATCH", body: { email: `moved.${rest.email}` } });
    expect((await scimBody(await scim(t, `/Users/${u.id}`))).userName).toBe(`moved.${rest.email}`);
    // A SCIM user with a userName that is not an email keeps both.
    const s = await createScimUser(t, { userName: "not-an-email" });
    const sr = (await (await t.call(`/v1/users/${s.id}`)).json()) as any;
    expect(sr.userName).toBe("not-an-email");
    expect(sr.email).toBe(s.emails[0].value);
    // userName is unique against emails used as userNames too, and the 409 says which attribute.
    const dup = await scimError(await scim(t, "/Users", { method: "POST", body: scimUser({ userName: `MOVED.${rest.email.toUpperCase()}` }) }), 409, "uniqueness");
    expect(dup.detail).toContain(`userName (a user's userName defaults to its email) already exists (id ${rest.id})`);
    const dupEmail = await scimError(await scim(t, "/Users", { method: "POST", body: scimUser({ emails: [{ value: `moved.${rest.email}` }] }) }), 409, "uniqueness");
    expect(dupEmail.detail).toBe(`A user with this emails already exists (id ${rest.id}).`);
    // REST can set userName too; SCIM finds the user by it.
    const patched = await t.call(`/v1/users/${rest.id}`, { method: "PATCH", body: { userName: "rest.login" } });
    expect(patched.status).toBe(200);
    const byName = await scimBody(await scim(t, `/Users?filter=${encodeURIComponent('userName eq "REST.LOGIN"')}`));
    expect(byName.Resources.map((r: any) => r.id)).toEqual([rest.id]);
  });
});

describe("tenant isolation", () => {
  it("another tenant's user is invisible to every SCIM operation", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const u = await createScimUser(a);
    await scimError(await scim(b, `/Users/${u.id}`), 404);
    await scimError(await scim(b, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: "active", value: false }) }), 404);
    await scimError(await scim(b, `/Users/${u.id}`, { method: "PUT", body: scimUser() }), 404);
    await scimError(await scim(b, `/Users/${u.id}`, { method: "DELETE" }), 404);
    expect((await scimBody(await scim(b, `/Users?filter=${encodeURIComponent(`userName eq "${u.userName}"`)}`))).totalResults).toBe(0);
    expect((await scimBody(await scim(b, `/Users?filter=${encodeURIComponent(`id eq "${u.id}"`)}`))).totalResults).toBe(0);
    expect((await scimBody(await scim(b, "/Users"))).totalResults).toBe(0);
    // B may use the same userName: uniqueness is per tenant.
    expect((await scim(b, "/Users", { method: "POST", body: scimUser({ userName: u.userName, emails: u.emails, externalId: u.externalId }) })).status).toBe(201);
    expect((await scimBody(await scim(a, `/Users/${u.id}`))).active).toBe(true);
  });
});

describe("paging, sorting, search and shaping", () => {
  let t: TestTenant;
  const made: Record<string, any>[] = [];
  beforeAll(async () => {
    t = await createTenant();
    for (let i = 0; i < 11; i++) made.push(await createScimUser(t, { name: { givenName: `G${String(10 - i).padStart(2, "0")}`, familyName: "Pager" } }));
  });

  it("pages with startIndex/count in a stable order and echoes startIndex (E6)", async () => {
    const seen: string[] = [];
    for (let start = 1; start <= 11; start += 5) {
      const body = await scimBody(await scim(t, `/Users?startIndex=${start}&count=5`));
      expect(body).toMatchObject({ totalResults: 11, startIndex: start, itemsPerPage: Math.min(5, 12 - start) });
      seen.push(...body.Resources.map((r: any) => r.id));
    }
    expect(seen).toEqual(made.map((u) => u.id));
  });

  it("clamps startIndex < 1 and negative counts, caps count at 200, rejects non-integers", async () => {
    expect(await scimBody(await scim(t, "/Users?startIndex=0&count=-3"))).toMatchObject({ startIndex: 1, itemsPerPage: 0, totalResults: 11, Resources: [] });
    expect((await scimBody(await scim(t, "/Users?count=100000"))).itemsPerPage).toBe(11);
    await scimError(await scim(t, "/Users?count=abc"), 400);
  });

  it("sorts by sortBy/sortOrder", async () => {
    const asc = await scimBody(await scim(t, "/Users?sortBy=name.givenName&count=3"));
    expect(asc.Resources.map((r: any) => r.name.givenName)).toEqual(["G00", "G01", "G02"]);
    const desc = await scimBody(await scim(t, "/Users?sortBy=name.givenName&sortOrder=descending&count=2"));
    expect(desc.Resources.map((r: any) => r.name.givenName)).toEqual(["G10", "G09"]);
    await scimError(await scim(t, "/Users?sortBy=nickName"), 400, "invalidFilter");
  });

  it("POST /Users/.search takes the same parameters in the body", async () => {
    const res = await scim(t, "/Users/.search", {
      method: "POST",
      body: { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter: 'name.givenName sw "G0"', sortBy: "name.givenName", startIndex: 2, count: 2, attributes: ["userName"] },
    });
    expect(res.status).toBe(200);
    const body = await scimBody(res);
    expect(body.schemas).toEqual([LIST]);
    expect(body.totalResults).toBe(10);
    expect(body.Resources).toHaveLength(2);
    expect(Object.keys(body.Resources[0]).sort()).toEqual(["id", "schemas", "userName"]);
  });

  it("attributes and excludedAttributes shape reads and writes", async () => {
    const u = made[0]!;
    const only = await scimBody(await scim(t, `/Users/${u.id}?attributes=userName,name.givenName,emails.value`));
    expect(only).toEqual({ schemas: u.schemas, id: u.id, userName: u.userName, name: { givenName: u.name.givenName }, emails: [{ value: u.emails[0].value }] });
    const without = await scimBody(await scim(t, `/Users/${u.id}?excludedAttributes=emails,meta,name.formatted,id`));
    expect(without.emails).toBeUndefined();
    expect(without.meta).toBeUndefined();
    expect(without.id).toBe(u.id); // returned: always
    expect(without.name.formatted).toBeUndefined();
    const created = await scimBody(await scim(t, "/Users?attributes=id", { method: "POST", body: scimUser() }));
    expect(Object.keys(created).sort()).toEqual(["id", "schemas"]);
    const patched = await scimBody(await scim(t, `/Users/${u.id}?attributes=title`, { method: "PATCH", body: patch({ op: "add", path: "title", value: "T" }) }));
    expect(patched).toEqual({ schemas: patched.schemas, id: u.id, title: "T" });
    const listed = await scimBody(await scim(t, "/Users?count=1&excludedAttributes=name,emails,meta"));
    expect(listed.Resources[0].name).toBeUndefined();
  });
});

describe("ETags", () => {
  it("meta.version and ETag agree; If-None-Match gives 304, a stale If-Match 412", async () => {
    const t = await createTenant();
    const u = await createScimUser(t);
    const res = await scim(t, `/Users/${u.id}`);
    expect(res.headers.get("ETag")).toBe(u.meta.version);
    expect((await scim(t, `/Users/${u.id}`, { headers: { "If-None-Match": u.meta.version } })).status).toBe(304);
    const changed = await scim(t, `/Users/${u.id}`, { method: "PATCH", headers: { "If-Match": u.meta.version }, body: patch({ op: "add", path: "title", value: "A" }) });
    expect(changed.status).toBe(200);
    const v2 = (await scimBody(changed)).meta.version;
    expect(v2).not.toBe(u.meta.version);
    expect(changed.headers.get("ETag")).toBe(v2);
    expect((await scim(t, `/Users/${u.id}`, { headers: { "If-None-Match": u.meta.version } })).status).toBe(200);
    await scimError(await scim(t, `/Users/${u.id}`, { method: "PATCH", headers: { "If-Match": u.meta.version }, body: patch({ op: "add", path: "title", value: "B" }) }), 412);
    await scimError(await scim(t, `/Users/${u.id}`, { method: "PUT", headers: { "If-Match": u.meta.version }, body: { ...u, title: "B" } }), 412);
    await scimError(await scim(t, `/Users/${u.id}`, { method: "DELETE", headers: { "If-Match": u.meta.version } }), 412);
    expect((await scimBody(await scim(t, `/Users/${u.id}`))).title).toBe("A");
    expect((await scim(t, `/Users/${u.id}`, { method: "DELETE", headers: { "If-Match": v2 } })).status).toBe(204);
  });
});

describe("PATCH atomicity and errors", () => {
  let t: TestTenant;
  beforeAll(async () => {
    t = await createTenant();
  });

  async function unchanged(u: Record<string, any>) {
    const now = await scimBody(await scim(t, `/Users/${u.id}`));
    expect(now.meta.version).toBe(u.meta.version);
    expect(now.title).toBe(u.title);
  }

  it("a failing operation anywhere leaves the user untouched", async () => {
    const u = await createScimUser(t, { title: "Before" });
    await scimError(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: "title", value: "After" }, { op: "replace", path: "id", value: "x" }) }), 400, "mutability");
    await unchanged(u);
    await scimError(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: "title", value: "After" }, { op: "replace", path: "manager", value: "missing" }) }), 400, "invalidValue");
    await unchanged(u);
    await scimError(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: "title", value: "After" }, { op: "replace", path: "emails[type eq \"work\"].value", value: "not-an-email" }) }), 400, "invalidValue");
    await unchanged(u);
    await scimError(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: "title", value: "After" }, { op: "replace", path: "active", value: "maybe" }) }), 400, "invalidValue");
    await unchanged(u);
    const other = await createScimUser(t);
    await scimError(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: "title", value: "After" }, { op: "replace", path: "userName", value: other.userName }) }), 409, "uniqueness");
    await unchanged(u);
  });

  it("names the problem: op, path, filter, remove without path", async () => {
    const u = await createScimUser(t);
    await scimError(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "move", path: "title", value: "x" }) }), 400, "invalidSyntax");
    await scimError(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "remove" }) }), 400, "noTarget");
    await scimError(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: "emails[type eq]", value: "x" }) }), 400, "invalidFilter");
    await scimError(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: "bad path!", value: "x" }) }), 400, "invalidPath");
    await scimError(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: { schemas: ["urn:wrong"], Operations: [] } }), 400, "invalidSyntax");
    await scimError(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: "title", value: ["a", "b"] }) }), 400, "invalidValue");
  });

  it("single-element arrays for single-valued attributes, remove, add to emails", async () => {
    const u = await createScimUser(t, { title: "T" });
    let after = await scimBody(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: "title", value: ["Only"] }) }));
    expect(after.title).toBe("Only");
    after = await scimBody(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "Remove", path: "title" }) }));
    expect(after.title).toBeUndefined();
    after = await scimBody(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "add", value: { "name.givenName": "Dot", nickName: "ignored" } }) }));
    expect(after.name.givenName).toBe("Dot");
    after = await scimBody(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: "name", value: { familyName: "Merged" } }) }));
    expect(after.name).toMatchObject({ givenName: "Dot", familyName: "Merged" });
    // Adding a primary email makes it the user's email (the old one stops being primary).
    after = await scimBody(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "add", path: "emails", value: [{ value: `new.${u.userName}`, type: "work", primary: "True" }] }) }));
    expect(after.emails).toEqual([{ value: `new.${u.userName}`, type: "work", primary: true }]);
    // A non-primary one does not displace the primary email.
    after = await scimBody(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "add", path: "emails", value: [{ value: "other@example.com", type: "home" }] }) }));
    expect(after.emails[0].value).toBe(`new.${u.userName}`);
  });
});

describe("core rules and effects through SCIM", () => {
  it("built-in attributes a tenant makes required are required over SCIM, by their SCIM names", async () => {
    const t = await createTenant();
    expect((await t.call("/v1/available-attributes/title", { method: "PATCH", body: { required: true } })).status).toBe(200);
    expect((await t.call("/v1/available-attributes/phone", { method: "PATCH", body: { required: true } })).status).toBe(200);
    const err = await scimError(await scim(t, "/Users", { method: "POST", body: scimUser() }), 400, "invalidValue");
    expect(err.detail).toContain("title: is required");
    expect(err.detail).toContain("phoneNumbers: is required");
    const ok = await scim(t, "/Users", { method: "POST", body: scimUser({ title: "T", phoneNumbers: [{ value: "+45 1234", type: "mobile" }] }) });
    expect(ok.status).toBe(201);
  });

  it("concurrent PATCHes on one user lose nothing (re-applied to the new version)", async () => {
    const t = await createTenant();
    const u = await createScimUser(t);
    const fields = ["employeeNumber", "costCenter", "organization", "division", "department"];
    const results = await Promise.all(
      fields.map((f) => scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: `${ENTERPRISE}:${f}`, value: `v-${f}` }) })),
    );
    expect(results.map((r) => r.status)).toEqual(fields.map(() => 200));
    const after = await scimBody(await scim(t, `/Users/${u.id}`));
    expect(after[ENTERPRISE]).toEqual(Object.fromEntries(fields.map((f) => [f, `v-${f}`])));
  });

  it("SCIM writes emit the same outbox events as REST", async () => {
    const t = await createTenant();
    const u = await createScimUser(t);
    await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "Replace", path: "active", value: "False" }) });
    await scim(t, `/Users/${u.id}`, { method: "DELETE" });
    const { env } = await import("cloudflare:workers");
    const rows = await env.DB.prepare("SELECT type FROM events WHERE tenant_id = ? AND subject_id = ? ORDER BY seq").bind(t.id, u.id).all<{ type: string }>();
    expect(rows.results.map((r) => r.type)).toEqual(["user.created", "user.deactivated", "user.erased"]);
  });
});

describe("rate limits", () => {
  it("SCIM counts against the tenant's limit and answers 429 as a SCIM Error with Retry-After", async () => {
    const t = await createTenant();
    const res = await platform(`/platform/tenants/${t.slug}`, { method: "PATCH", body: { rateLimits: { tenantPerSecond: 3, ipPerSecond: 100 } } });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1050));
    const responses = await Promise.all(Array.from({ length: 8 }, () => scim(t, "/Users?count=1")));
    const limited = responses.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.headers.get("Retry-After")).toBeTruthy();
    await scimError(limited[0]!, 429);
  });
});
