/**
 * Issue 12, findings 1-8: each reproduced from outside (through the Worker entry) and now answered
 * with a 4xx that says what to fix. Numbers in the describe names are the issue's.
 */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, createUser, newUser, platform, problem, type TestTenant } from "./helpers";
import { ERROR, patch, scim, scimError, scimUser, createScimUser } from "./scim/helpers";

let t: TestTenant;
beforeAll(async () => {
  t = await createTenant();
});

/** A request with a raw body stream (chunked: no Content-Length) and exactly the given headers. */
function raw(path: string, init: { method: string; headers?: Record<string, string>; body?: string | Uint8Array | null }): Promise<Response> {
  const headers = new Headers({ Authorization: `Bearer ${t.token}`, ...init.headers });
  const bytes = typeof init.body === "string" ? new TextEncoder().encode(init.body) : init.body;
  const body = bytes == null ? null : new ReadableStream<Uint8Array>({ start(c) { if (bytes.byteLength > 0) c.enqueue(bytes); c.close(); } });
  return exports.default.fetch(new Request(`https://${t.host}${path}`, { method: init.method, headers, body, duplex: "half" } as RequestInit));
}

describe("1. malformed or unsupported Content-Type", () => {
  for (const type of ["application/json;;", "application/json; charset", "text/plain", "application/json; charset=utf-16", "application/x-www-form-urlencoded", "text/xml"]) {
    it(`'${type}' with an empty body is never a 5xx`, async () => {
      const res = await raw("/v1/users", { method: "POST", headers: { "Content-Type": type }, body: "" });
      expect([400, 415]).toContain(res.status);
      expect((await problem(res)).code).toBeTypeOf("string");
    });
  }
  it("415 for a malformed media type even with a valid JSON body, and for charset=utf-16", async () => {
    for (const type of ["application/json;;", "application/json; charset", "application/json; charset=utf-16"]) {
      const res = await raw("/v1/users", { method: "POST", headers: { "Content-Type": type }, body: JSON.stringify(newUser()) });
      expect(res.status).toBe(415);
      expect((await problem(res)).code).toBe("unsupported_media_type");
    }
  });
  it("415 for Content-Encoding: gzip (never silently read as identity)", async () => {
    const res = await raw("/v1/users", { method: "POST", headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" }, body: JSON.stringify(newUser()) });
    expect(res.status).toBe(415);
  });
  it("charset=UTF-8 (any case, quoted) is accepted", async () => {
    const res = await raw("/v1/users", { method: "POST", headers: { "Content-Type": 'application/json; charset="UTF-8"' }, body: JSON.stringify(newUser()) });
    expect(res.status).toBe(201);
  });
  it("SCIM answers a bad Content-Type with a SCIM Error", async () => {
    const res = await scim(t, "/Users", { method: "POST", rawBody: "", headers: { "Content-Type": "application/json;;" } });
    await scimError(res, 415);
  });
});

describe("2. empty chunked body without Content-Type", () => {
  for (const [method, path] of [["POST", "/v1/users"], ["PATCH", "/v1/users/00000000-0000-7000-8000-000000000000"], ["POST", "/v1/roles"], ["POST", "/v1/api-tokens"]] as const) {
    it(`${method} ${path} is a 400, not 'Body has already been used'`, async () => {
      const res = await raw(path, { method, body: "" });
      expect(res.status).toBeLessThan(500);
      expect(res.status).toBeGreaterThanOrEqual(400);
      await problem(res);
    });
  }
  it("SCIM POST /Users with an empty chunked body is a SCIM 400", async () => {
    const headers = new Headers({ Authorization: `Bearer ${t.token}` });
    const body = new ReadableStream({ start(c) { c.close(); } });
    const res = await exports.default.fetch(new Request(`https://${t.host}/scim/v2/Users`, { method: "POST", headers, body, duplex: "half" } as RequestInit));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { schemas: string[] }).schemas).toEqual([ERROR]);
  });
});

describe("3. SCIM startIndex and count are bounded decimal integers", () => {
  for (const value of ["9223372036854775807", "1e308", "0x10", "1.5", "99999999999"]) {
    it(`startIndex=${value} is a 400 invalidValue`, async () => {
      await scimError(await scim(t, `/Users?startIndex=${value}`), 400, "invalidValue");
      await scimError(await scim(t, `/Groups?count=${value}`), 400, "invalidValue");
    });
  }
  it("the same bound in /.search bodies", async () => {
    const search = (startIndex: unknown) => scim(t, "/Users/.search", { method: "POST", body: { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], startIndex } });
    await scimError(await search(9223372036854775807), 400, "invalidValue");
    await scimError(await search(1e308), 400, "invalidValue");
    expect((await search(-5)).status).toBe(200); // RFC 7644: below 1 means 1
  });
});

describe("4. deep nesting", () => {
  it("a Bulk operation whose data nests 10,000 levels is a 400, not an inner 500", async () => {
    const data = `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`;
    const body = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","bulkId":"x","path":"/Users","data":${data}}]}`;
    const res = await scim(t, "/Bulk", { method: "POST", rawBody: body, headers: { "Content-Type": "application/scim+json" } });
    const err = await scimError(res, 400);
    expect(err.detail).toMatch(/deeper than 32/);
  });
  it("REST bodies are bounded the same way", async () => {
    const res = await t.call("/v1/users", { rawBody: `${"[".repeat(5000)}${"]".repeat(5000)}`, headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(400);
  });
});

describe("6. text rule: Unicode without C0 controls or XML-forbidden characters", () => {
  for (const [label, value] of [["NUL", "Ada\u0000"], ["ESC", "A\u001bda"], ["U+FFFE", "Ada\ufffe"], ["U+FFFF", "\uffffAda"], ["a lone surrogate", "Ada\ud800"]] as const) {
    it(`${label} in a name is a 400 naming the field`, async () => {
      const res = await t.call("/v1/users", { body: newUser({ firstName: value }) });
      expect(res.status).toBe(400);
      const body = await problem(res);
      expect(body.errors[0].path).toBe("firstName");
    });
  }
  it("tab or newline in a single-line field is a 400; in a free-text custom attribute it is kept", async () => {
    expect((await t.call("/v1/users", { body: newUser({ lastName: "Love\nlace" }) })).status).toBe(400);
    expect((await t.call("/v1/users", { body: newUser({ email: "a\tb@example.com" }) })).status).toBe(400);
    const def = await t.call("/v1/available-attributes", { body: { key: "notes", label: "Notes", type: "string" } });
    expect(def.status).toBe(201);
    const ok = await t.call("/v1/users", { body: newUser({ attributes: { notes: "line 1\nline 2\tend" } }) });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as any).attributes.notes).toBe("line 1\nline 2\tend");
  });
  it("malformed UTF-8 is a 400, never replaced with U+FFFD and stored", async () => {
    const bytes = new TextEncoder().encode(JSON.stringify(newUser({ firstName: "XX" })));
    const i = bytes.indexOf(0x58);
    bytes[i] = 0xc3; // a lead byte followed by 'X': not UTF-8
    const res = await raw("/v1/users", { method: "POST", headers: { "Content-Type": "application/json" }, body: bytes });
    expect(res.status).toBe(400);
  });
  it("control characters in the URL are a 400 before any handler", async () => {
    expect((await t.call("/v1/users/abc%00def")).status).toBe(400);
    expect((await t.call("/v1/users?email=a%00@example.com")).status).toBe(400);
    expect((await t.call("/v1/users?email=%E0%A4")).status).toBe(400);
  });
  it("XML character references are decoded, and forbidden ones refused", async () => {
    const xml = (first: string) =>
      t.call("/v1/users?format=xml", {
        rawBody: `<user><firstName>${first}</firstName><lastName>Ref${Date.now()}</lastName><email>ref.${crypto.randomUUID()}@example.com</email><externalId>${crypto.randomUUID()}</externalId></user>`,
        headers: { "Content-Type": "application/xml" },
      });
    const ok = await xml("&#x41;da &amp; &#66;");
    expect(ok.status).toBe(201);
    expect(await ok.text()).toContain("<firstName>Ada &amp; B</firstName>");
    for (const bad of ["A&#0;da", "A&#xD800;da", "A&#xFFFE;da", "A&nbsp;da"]) expect((await xml(bad)).status).toBe(400);
  });
  it("an XML page holding every user stays well-formed", async () => {
    const res = await t.call("/v1/users?format=xml&limit=1000");
    expect(res.status).toBe(200);
    expect(await res.text()).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
  });
});

describe("7. strictness", () => {
  it("unknown query parameters are a 400 naming each and listing the valid ones", async () => {
    const res = await t.call("/v1/users?emial=x@y.com&fooBar=1");
    expect(res.status).toBe(400);
    const body = await problem(res);
    expect(body.code).toBe("invalid_query");
    expect(body.errors.map((e: any) => e.path).sort()).toEqual(["emial", "fooBar"]);
    expect(body.detail).toContain("email");
    expect(body.validParameters).toEqual(expect.arrayContaining(["email", "externalId", "filter", "limit", "cursor", "format"]));
  });
  it("an endpoint without query parameters says so; format is accepted everywhere on /v1", async () => {
    const u = await createUser(t);
    expect((await t.call(`/v1/users/${u.id}?format=json`)).status).toBe(200);
    const res = await t.call(`/v1/users/${u.id}?x=1`);
    expect(res.status).toBe(400);
    expect((await problem(res)).validParameters).toEqual(["format"]);
    expect((await platform("/platform/tenants?limt=5")).status).toBe(400);
  });
  for (const value of ["0x10", "1e2", "+5", " 5", "5.0", "", "99999999999999999999"]) {
    it(`limit=${JSON.stringify(value)} is a 400`, async () => {
      expect((await t.call(`/v1/users?limit=${encodeURIComponent(value)}`)).status).toBe(400);
    });
  }
  it("redundant parentheses count towards the 12-level filter bound", async () => {
    const f = `${"(".repeat(13)}email eq "a@b.c"${")".repeat(13)}`;
    const res = await t.call(`/v1/users?filter=${encodeURIComponent(f)}`);
    expect(res.status).toBe(400);
    expect((await problem(res)).code).toBe("invalid_filter");
    const deep = `${"(".repeat(400)}email eq "a@b.c"${")".repeat(400)}`;
    await scimError(await scim(t, `/Users?filter=${encodeURIComponent(deep)}`), 400, "invalidFilter");
    const ok = `${"(".repeat(3)}email eq "a@b.c"${")".repeat(3)}`;
    expect((await t.call(`/v1/users?filter=${encodeURIComponent(ok)}`)).status).toBe(200);
  });
  it("token scopes: no duplicates, no 10,000-element lists", async () => {
    expect((await t.call("/v1/api-tokens", { body: { name: "dup", scopes: ["users:read", "users:read"] } })).status).toBe(400);
    expect((await t.call("/v1/api-tokens", { body: { name: "big", scopes: Array(10_000).fill("users:read") } })).status).toBe(400);
  });
  for (const slug of ["www", "api", "platform", "localhost", "0", "123"]) {
    it(`reserved slug '${slug}' is a 400`, async () => {
      const res = await platform("/platform/tenants", { body: { slug, name: "Reserved" } });
      expect(res.status).toBe(400);
    });
  }
  it("PATCH /v1/users/search is a 405 with Allow: POST; OPTIONS advertises the same", async () => {
    const res = await t.call("/v1/users/search", { method: "PATCH", body: {} });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("OPTIONS, POST");
    const options = await t.call("/v1/users/search", { method: "OPTIONS" });
    expect(options.status).toBe(204);
    expect(options.headers.get("Allow")).toBe("OPTIONS, POST");
    const item = await t.call("/v1/users/00000000-0000-7000-8000-000000000000", { method: "OPTIONS" });
    expect(item.headers.get("Allow")).toBe("DELETE, GET, HEAD, OPTIONS, PATCH, PUT");
  });
});

describe("8. SCIM", () => {
  it("PATCH remove of externalId or active is a 400 invalidValue, not a 200 that changes nothing", async () => {
    const u = await createScimUser(t);
    await scimError(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "remove", path: "externalId" }) }), 400, "invalidValue");
    await scimError(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "remove", path: "active" }) }), 400, "invalidValue");
    const after = (await (await scim(t, `/Users/${u.id}`)).json()) as any;
    expect(after.externalId).toBe(u.externalId);
    expect(after.active).toBe(true);
  });
  it("primary: false on emails or phone numbers is a 400, not stored and answered as true", async () => {
    const body = scimUser();
    body.emails = [{ ...body.emails[0], primary: false }];
    await scimError(await scim(t, "/Users", { method: "POST", body }), 400, "invalidValue");
    const phones = scimUser({ phoneNumbers: [{ value: "+45 1234", type: "work", primary: false }] });
    await scimError(await scim(t, "/Users", { method: "POST", body: phones }), 400, "invalidValue");
  });
  it("root queries are a 501 saying where to query; the 404 text names /Groups", async () => {
    const search = await scim(t, "/.search", { method: "POST", body: { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter: 'userName eq "x"' } });
    await scimError(search, 501);
    await scimError(await scim(t, "/?filter=userName%20eq%20%22x%22"), 501);
    const missing = await scimError(await scim(t, "/Nope"), 404);
    expect(missing.detail).toContain("/Groups");
  });
});
