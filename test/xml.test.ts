/** XML on /v1: requests and responses carry exactly the JSON documents' data. */
import { beforeAll, describe, expect, it } from "vitest";
import { fromXml, toXml } from "../src/http/xml";
import { createTenant, createUser, newUser, type TestTenant } from "./helpers";

let t: TestTenant;
beforeAll(async () => {
  t = await createTenant();
  await t.call("/v1/available-attributes", { body: { key: "fte", type: "number" } });
  await t.call("/v1/available-attributes", { body: { key: "remote", type: "boolean" } });
});

const xmlHeaders = { "Content-Type": "application/xml" };

describe("the mapping", () => {
  it("round-trips any JSON document", () => {
    const doc = {
      s: "R&D <ops> \"quoted\" 'single'",
      empty: "",
      n: 0.8,
      neg: -3,
      t: true,
      f: false,
      nil: null,
      list: [1, "two", { three: 3 }, [], null],
      nested: { deeper: { deepest: "x" } },
      "2fa": "entry form",
      "attributes.costCenter": "dotted names are XML names",
      item: "reserved name",
      xmlish: "reserved prefix",
      unicode: "Ærø – 東京 😀",
    };
    expect(fromXml(toXml(doc, "response"))).toEqual(doc);
  });

  it("refuses DTDs, entity declarations and deep nesting", () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><user><firstName>&lol2;</firstName></user>`;
    expect(() => fromXml(bomb)).toThrow(/DTDs/);
    const xxe = `<?xml version="1.0"?><!DOCTYPE u [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><u><firstName>&xxe;</firstName></u>`;
    expect(() => fromXml(xxe)).toThrow(/DTDs/);
    const deep = `${"<a>".repeat(40)}x${"</a>".repeat(40)}`;
    expect(() => fromXml(deep)).toThrow();
    expect(() => fromXml("<a><b>1</b></a><c/>")).toThrow();
    expect(() => fromXml("<a><b>1</a>")).toThrow();
  });
});

describe("XML over HTTP", () => {
  it("creates a user from XML and reads it back as JSON", async () => {
    const input = newUser({ department: "R&D" });
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<user>
  <firstName>${input.firstName}</firstName><lastName>${input.lastName}</lastName>
  <email>${input.email}</email><externalId>${input.externalId}</externalId>
  <department>R&amp;D</department><title nil="true"/>
  <attributes><fte type="number">0.5</fte><remote type="boolean">true</remote></attributes>
</user>`;
    const res = await t.call("/v1/users", { method: "POST", rawBody: xml, headers: xmlHeaders });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(res.headers.get("Content-Type")).toBe("application/json");
    const user = (await res.json()) as Record<string, any>;
    expect(user).toMatchObject({ firstName: input.firstName, department: "R&D", title: null, attributes: { fte: 0.5, remote: true } });
  });

  it("answers in XML with ?format=xml or Accept, carrying the same data as JSON", async () => {
    const user = await createUser(t, { attributes: { fte: 1, remote: false } });
    // Wait until side effects are applied, so that both reads see the same document.
    let json: Record<string, any> = {};
    for (let i = 0; i < 100; i++) {
      json = (await (await t.call(`/v1/users/${user.id}`)).json()) as Record<string, any>;
      if (json.provisioning?.status !== "pending") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const options of [{ path: `/v1/users/${user.id}?format=xml`, headers: {} as Record<string, string> }, { path: `/v1/users/${user.id}`, headers: { Accept: "application/xml" } }]) {
      const res = await t.call(options.path, { headers: options.headers });
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toBe("application/xml; charset=utf-8");
      expect(res.headers.get("ETag")).toBe('W/"1"');
      const text = await res.text();
      expect(text).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><response>/);
      expect(fromXml(text)).toEqual(json);
    }
    const forced = await t.call(`/v1/users/${user.id}?format=json`, { headers: { Accept: "application/xml" } });
    expect(forced.headers.get("Content-Type")).toBe("application/json");
  });

  it("renders lists and errors in XML", async () => {
    const list = await t.call("/v1/users?format=xml&limit=2");
    const doc = fromXml(await list.text()) as { data: unknown[]; pagination: { limit: number } };
    expect(doc.data.length).toBeGreaterThan(0);
    expect(doc.pagination.limit).toBe(2);
    const err = await t.call("/v1/users?format=xml", { method: "POST", rawBody: "<user><firstName>A</firstName></user>", headers: xmlHeaders });
    expect(err.status).toBe(400);
    expect(err.headers.get("Content-Type")).toBe("application/problem+xml; charset=utf-8");
    const text = await err.text();
    expect(text).toContain('<problem xmlns="urn:ietf:rfc:7807">');
    const problem = fromXml(text) as { code: string; errors: Array<{ path: string }> };
    expect(problem.code).toBe("validation_failed");
    expect(problem.errors.map((e) => e.path)).toEqual(expect.arrayContaining(["lastName", "email", "externalId"]));
    const unauth = await t.call("/v1/users?format=xml", { token: "nope" });
    expect(unauth.status).toBe(401);
    expect(unauth.headers.get("Content-Type")).toBe("application/problem+xml; charset=utf-8");
  });

  it("PATCHes from XML", async () => {
    const user = await createUser(t);
    const res = await t.call(`/v1/users/${user.id}?format=xml`, { method: "PATCH", rawBody: '<patch><title>Boss</title><phone nil="true"/></patch>', headers: xmlHeaders });
    expect(res.status).toBe(200);
    expect(fromXml(await res.text())).toMatchObject({ title: "Boss", phone: null, version: 2 });
  });

  it("rejects hostile or broken XML with 400 and writes nothing", async () => {
    const before = ((await (await t.call("/v1/users?limit=1000")).json()) as { data: unknown[] }).data.length;
    const bomb = `<!DOCTYPE lolz [<!ENTITY lol "lol">]><user><firstName>&lol;</firstName></user>`;
    for (const body of [bomb, "<user><firstName>A</user>", "<user><title type=\"number\">x</title></user>"]) {
      const res = await t.call("/v1/users", { method: "POST", rawBody: body, headers: xmlHeaders });
      expect(res.status, body).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe("invalid_xml");
    }
    const after = ((await (await t.call("/v1/users?limit=1000")).json()) as { data: unknown[] }).data.length;
    expect(after).toBe(before);
  });

  it("is published in the OpenAPI document", async () => {
    const doc = (await (await t.call("/openapi.json")).json()) as { info: { description: string }; paths: Record<string, any>; components: Record<string, any> };
    expect(doc.info.description).toContain("type=\"array\"");
    const post = doc.paths["/v1/users"].post;
    expect(Object.keys(post.requestBody.content)).toEqual(expect.arrayContaining(["application/json", "application/xml"]));
    expect(Object.keys(post.responses["201"].content)).toEqual(expect.arrayContaining(["application/json", "application/xml"]));
    // Error responses shared by many operations are components (openapi/shared-responses.ts).
    const badRequest = post.responses["400"].$ref ? doc.components.responses[post.responses["400"].$ref.split("/").pop()] : post.responses["400"];
    expect(Object.keys(badRequest.content)).toContain("application/problem+xml");
    expect(post.parameters.map((p: { name: string }) => p.name)).toContain("format");
    expect(doc.paths["/platform/tenants"].post.requestBody.content["application/xml"]).toBeUndefined();
  });

  it("rejects an unknown format without running the request", async () => {
    const body = newUser();
    const res = await t.call("/v1/users?format=yaml", { body });
    expect(res.status).toBe(400);
    const list = (await (await t.call(`/v1/users?email=${encodeURIComponent(String(body.email))}`)).json()) as { data: unknown[] };
    expect(list.data).toHaveLength(0);
  });
});
