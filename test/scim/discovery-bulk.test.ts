/** Discovery accuracy (what /Schemas says is what /Users does) and Bulk. */
import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, type TestTenant } from "../helpers";
import { CORE, ENTERPRISE, GROUP, LIST, TENANT_EXT, PROVISIONING_EXT, createScimUser, scim, scimBody, scimError, scimUser } from "./helpers";

const BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const CHARACTERISTICS = ["name", "type", "multiValued", "description", "required", "caseExact", "mutability", "returned", "uniqueness"];

describe("discovery", () => {
  let t: TestTenant;
  beforeAll(async () => {
    t = await createTenant();
    await t.call("/v1/available-attributes", { body: { key: "shirtSize", type: "enum", enumValues: ["S", "M", "L"], required: false } });
    await t.call("/v1/available-attributes", { body: { key: "startDate", type: "date" } });
  });

  it("ServiceProviderConfig advertises what is enforced", async () => {
    const c = await scimBody(await scim(t, "/ServiceProviderConfig"));
    expect(c).toMatchObject({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 50, maxPayloadSize: 1048576 },
      filter: { supported: true, maxResults: 200 },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
    });
    expect(c.authenticationSchemes[0].type).toBe("oauthbearertoken");
  });

  it("ResourceTypes names the User endpoint and its extensions", async () => {
    const list = await scimBody(await scim(t, "/ResourceTypes"));
    expect(list.schemas).toEqual([LIST]);
    expect(list.Resources[0]).toMatchObject({ id: "User", endpoint: "/Users", schema: CORE, schemaExtensions: [{ schema: ENTERPRISE, required: false }, { schema: TENANT_EXT, required: false }, { schema: PROVISIONING_EXT, required: false }] });
    expect((await scimBody(await scim(t, "/ResourceTypes/User"))).id).toBe("User");
    await scimError(await scim(t, "/ResourceTypes/Widget"), 404);
  });

  it("Schemas lists core, enterprise and the tenant's attributes with every characteristic", async () => {
    const list = await scimBody(await scim(t, "/Schemas"));
    expect(list.Resources.map((s: any) => s.id)).toEqual([CORE, ENTERPRISE, TENANT_EXT, PROVISIONING_EXT, GROUP]);
    const walk = (attrs: any[]) => {
      for (const a of attrs) {
        for (const k of CHARACTERISTICS) expect(a[k], `${a.name}.${k}`).not.toBeUndefined();
        expect(Object.values(a)).not.toContain(null);
        if (a.type === "complex") walk(a.subAttributes);
      }
    };
    for (const s of list.Resources) walk(s.attributes);
    const tenant = list.Resources[2];
    expect(tenant.attributes).toEqual([
      expect.objectContaining({ name: "shirtSize", type: "string", canonicalValues: ["S", "M", "L"], caseExact: true }),
      expect.objectContaining({ name: "startDate", type: "string" }),
    ]);
    const core = list.Resources[0];
    const userName = core.attributes.find((a: any) => a.name === "userName");
    expect(userName).toMatchObject({ required: true, caseExact: false, uniqueness: "server" });
    expect(core.attributes.find((a: any) => a.name === "password")).toMatchObject({ mutability: "writeOnly", returned: "never" });
    const one = await scimBody(await scim(t, `/Schemas/${ENTERPRISE}`));
    expect(one.attributes.map((a: any) => a.name)).toEqual(["employeeNumber", "costCenter", "organization", "division", "department", "manager"]);
  });

  it("every readWrite string attribute in /Schemas round-trips through POST and is filterable", async () => {
    const schemas = (await scimBody(await scim(t, "/Schemas"))).Resources;
    const body: Record<string, any> = scimUser({ schemas: [CORE, ENTERPRISE, TENANT_EXT] });
    const expected: [string | null, string, unknown][] = [];
    const valueFor = (name: string) => (name === "locale" ? "en-US" : name === "timezone" ? "Europe/Paris" : name === "shirtSize" ? "M" : name === "startDate" ? "2024-01-31" : `v-${name}`);
    for (const s of schemas) {
      if (s.id === GROUP) continue; // the Group schema has its own test (groups.test.ts)
      for (const a of s.attributes) {
        if (a.type !== "string" || a.mutability !== "readWrite" || a.multiValued || ["userName"].includes(a.name)) continue;
        const container = s.id === CORE ? body : (body[s.id] ??= {});
        container[a.name] = valueFor(a.name);
        expected.push([s.id === CORE ? null : s.id, a.name, container[a.name]]);
      }
    }
    const created = await scimBody(await scim(t, "/Users", { method: "POST", body }));
    for (const [urn, name, value] of expected) {
      const got = urn ? created[urn]?.[name] : created[name];
      expect(got, `${urn ?? "core"}:${name}`).toBe(value);
      const path = urn ? `${urn}:${name}` : name;
      const found = await scimBody(await scim(t, `/Users?filter=${encodeURIComponent(`${path} eq "${value}"`)}`));
      expect(found.Resources.map((r: any) => r.id), path).toContain(created.id);
    }
    expect(expected.length).toBeGreaterThan(10);
  });

  it("a filter on a discovery endpoint is 403", async () => {
    for (const p of ["/Schemas", "/ResourceTypes", "/ServiceProviderConfig"]) {
      await scimError(await scim(t, `${p}?filter=${encodeURIComponent('id eq "x"')}`), 403);
    }
  });

  it("a schema id is decoded once: `%25E0` is the id `%E0`, a 404, not a 500 (found by test/fuzz.test.ts)", async () => {
    const err = await scimError(await scim(t, "/Schemas/urn%25E0"), 404);
    expect(err.detail).toContain("No schema");
    expect((await scim(t, `/Schemas/${encodeURIComponent("urn:ietf:params:scim:schemas:core:2.0:User")}`)).status).toBe(200);
  });
});

describe("Bulk", () => {
  let t: TestTenant;
  beforeAll(async () => {
    t = await createTenant();
  });

  it("creates with bulkId references, then patches and deletes in order", async () => {
    const boss = scimUser();
    const report = scimUser({ [ENTERPRISE]: { manager: { value: "bulkId:boss" } } });
    const res = await scim(t, "/Bulk", {
      method: "POST",
      body: {
        schemas: [BULK],
        Operations: [
          { method: "POST", path: "/Users", bulkId: "boss", data: boss },
          { method: "POST", path: "/Users", bulkId: "report", data: report },
          { method: "PATCH", path: "/Users/bulkId:report", data: { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", path: "title", value: "Report" }] } },
          { method: "DELETE", path: "/Users/bulkId:boss" },
        ],
      },
    });
    expect(res.status).toBe(200);
    const body = await scimBody(res);
    expect(body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"]);
    expect(body.Operations.map((o: any) => o.status)).toEqual(["201", "201", "200", "204"]);
    const bossId = body.Operations[0].location.split("/").pop();
    const reportId = body.Operations[1].location.split("/").pop();
    expect(body.Operations[0]).toMatchObject({ method: "POST", bulkId: "boss" });
    const r = await scimBody(await scim(t, `/Users/${reportId}`));
    expect(r.title).toBe("Report");
    // The boss was deleted after the report pointed at it; the report lost its manager.
    expect(r[ENTERPRISE]?.manager).toBeUndefined();
    expect(bossId).toBeTruthy();
    await scimError(await scim(t, `/Users/${bossId}`), 404);
  });

  it("reports per-operation errors and stops after failOnErrors", async () => {
    const dup = await createScimUser(t);
    const res = await scim(t, "/Bulk", {
      method: "POST",
      body: {
        schemas: [BULK],
        failOnErrors: 2,
        Operations: [
          { method: "POST", path: "/Users", bulkId: "a", data: scimUser({ userName: dup.userName }) },
          { method: "PATCH", path: "/Users/bulkId:nope", data: { Operations: [] } },
          { method: "POST", path: "/Users", bulkId: "c", data: scimUser() },
        ],
      },
    });
    const body = await scimBody(res);
    expect(body.Operations).toHaveLength(2);
    expect(body.Operations[0]).toMatchObject({ status: "409", response: { status: "409", scimType: "uniqueness" } });
    expect(body.Operations[1].status).toBe("409");
    expect(body.Operations[1].response.detail).toContain("bulkId nope");
  });

  it("refuses more operations than advertised with 413, and malformed requests with 400", async () => {
    const ops = Array.from({ length: 51 }, (_, i) => ({ method: "POST", path: "/Users", bulkId: `b${i}`, data: scimUser() }));
    const err = await scimError(await scim(t, "/Bulk", { method: "POST", body: { schemas: [BULK], Operations: ops } }), 413);
    expect(err.detail).toContain("50");
    await scimError(await scim(t, "/Bulk", { method: "POST", body: { Operations: [] } }), 400, "invalidSyntax");
    const big = "x".repeat(1024 * 1024 + 10);
    await scimError(await scim(t, "/Bulk", { method: "POST", rawBody: big, headers: { "Content-Type": "application/scim+json" } }), 413);
  });
});
