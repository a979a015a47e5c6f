/**
 * The field table (src/users/fields.ts) is the one list of built-in user fields: every entry is a
 * built-in attribute, can be made required, and is then required on every way in (REST, SCIM,
 * bulk invitations). The loops below run over the table, so a new field is covered by adding it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ACCOUNT_FIELDS, FIELD_ENTRIES, FIELD_NAMES, USER_FIELDS, type FieldName } from "../src/users/fields";
import { SCIM_PLACEMENTS, scimErrorPath, type ScimPlacement } from "../src/scim/user-fields";
import { createTenant, createUser, newUser, problem, type TestTenant } from "./helpers";
import { CORE, ENTERPRISE, patch, scim, scimBody, scimError, scimUser } from "./scim/helpers";

async function json<T = Record<string, any>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

const REQUIRABLE = FIELD_ENTRIES.filter(([, f]) => !f.alwaysRequired).map(([name]) => name);
const placement = (name: FieldName): ScimPlacement | undefined => SCIM_PLACEMENTS.find((p) => p.name === name);

/** Members of a REST user that are not fields: ids, lifecycle, custom attributes, side effects. */
// The account fields (ACCOUNT_FIELDS) have a table of their own: read-only ones only in responses, the rest only in requests.
const ACCOUNT = Object.entries(ACCOUNT_FIELDS) as [string, { access: string }][];
const NOT_FIELDS = ["id", "role", "active", "status", "attributes", "version", "createdAt", "updatedAt", "provisioning", "memberships", ...ACCOUNT.filter(([, f]) => f.access !== "writeOnly").map(([k]) => k)];
const REQUEST_NOT_FIELDS = ["role", "active", "attributes", "groups", "campaigns", "accessGroups", "organizationIds", "folders", ...ACCOUNT.filter(([, f]) => f.access !== "readOnly").map(([k]) => k)];

describe("the field table", () => {
  it("every built-in is listed with builtIn: true; the optional ones can be made required, the others cannot be turned off", async () => {
    const t = await createTenant();
    const { data } = await json<{ data: Array<Record<string, any>> }>(await t.call("/v1/available-attributes"));
    const builtIns = data.filter((a) => a.builtIn);
    expect(builtIns.map((a) => a.key)).toEqual(FIELD_NAMES);
    for (const [name, f] of FIELD_ENTRIES) {
      expect(builtIns.find((a) => a.key === name), name).toMatchObject({ label: f.label, type: f.type, required: f.alwaysRequired });
      const on = await t.call(`/v1/available-attributes/${name}`, { method: "PATCH", body: { required: true } });
      expect(on.status, name).toBe(200);
      expect((await json(on)).required, name).toBe(true);
      const off = await t.call(`/v1/available-attributes/${name}`, { method: "PATCH", body: { required: false } });
      expect(off.status, name).toBe(f.alwaysRequired ? 409 : 200);
    }
  });

  it("the OpenAPI User schemas list exactly the table's fields", async () => {
    const t = await createTenant();
    const schemas = (await json(await t.call("/openapi.json"))).components.schemas;
    const fieldsOf = (name: string, others: string[]) => Object.keys(schemas[name].properties).filter((k) => !others.includes(k));
    expect(fieldsOf("User", NOT_FIELDS)).toEqual(FIELD_NAMES);
    expect(fieldsOf("UserCreate", REQUEST_NOT_FIELDS)).toEqual(FIELD_NAMES);
    expect(fieldsOf("UserPatch", REQUEST_NOT_FIELDS)).toEqual(FIELD_NAMES);
    expect([...schemas.UserCreate.required].sort()).toEqual(FIELD_NAMES.filter((n) => USER_FIELDS[n].alwaysRequired).sort());
    for (const [name, f] of FIELD_ENTRIES) {
      expect(schemas.UserCreate.properties[name].maxLength, name).toBe(f.maxLength);
      expect(schemas.User.properties[name].type, name).toEqual(f.whenUnset === null ? ["string", "null"] : "string");
    }
  });

  it("every field renders as XML text and round-trips through an XML body", async () => {
    const t = await createTenant();
    const u = await createUser(t, { title: "T&C", employeeNumber: "E-7" });
    const xml = await (await t.call(`/v1/users/${u.id}?format=xml`)).text();
    for (const [name, f] of FIELD_ENTRIES) {
      expect(f.xml, name).toBe("text");
      // Text elements carry no type attribute; unset ones are nil.
      expect(xml, name).toMatch(new RegExp(`<${name}(?: nil="true"/>|>[^<]*</${name}>)`));
    }
    expect(xml).toContain("<title>T&amp;C</title>");
  });
});

describe("a built-in the tenant requires is required everywhere", () => {
  let t: TestTenant;
  const values: Partial<Record<FieldName, () => string>> = {};
  let n = 0;

  beforeAll(async () => {
    t = await createTenant();
    const role = await json(await t.call("/v1/roles", { body: { name: "Member", weight: 1, permissions: ["users:read"] } }));
    const idp = await json(await t.call("/v1/identity-providers", { body: { name: "Okta", prefix: "okta" } }));
    const manager = await createUser(t);
    Object.assign(values, {
      managerId: () => manager.id,
      roleId: () => role.id,
      identityProviderId: () => idp.id,
      userName: () => `signin.${Date.now().toString(36)}${++n}`,
      timezone: () => "Europe/Paris",
      locale: () => "en-GB",
    });
  });

  const valueOf = (name: FieldName): string => values[name]?.() ?? ("example" in USER_FIELDS[name] ? (USER_FIELDS[name] as { example: string }).example : `v-${name}`);

  /** A SCIM user carrying `value` at the field's SCIM path. */
  function scimWith(p: ScimPlacement, value: string): Record<string, any> {
    const body = scimUser({ schemas: [CORE, ENTERPRISE] });
    const target = p.container ? (body[p.container] ??= {}) : body;
    target[p.attr] = p.listType ? [{ value, type: p.listType, primary: true }] : p.sub ? { [p.sub]: value } : value;
    return body;
  }

  for (const name of REQUIRABLE) {
    it(`${name}: REST, SCIM and invitations refuse a user without it, naming it, and accept one with it`, async () => {
      expect((await t.call(`/v1/available-attributes/${name}`, { method: "PATCH", body: { required: true } })).status).toBe(200);
      try {
        // REST create
        const missing = await t.call("/v1/users", { body: newUser() });
        expect(missing.status).toBe(400);
        expect((await problem(missing)).errors.map((e: { path: string }) => e.path)).toEqual([name]);
        const created = await t.call("/v1/users", { body: newUser({ [name]: valueOf(name) }) });
        expect(created.status, await created.clone().text()).toBe(201);
        // REST PATCH cannot clear it
        const user = await json(created);
        const cleared = await t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { [name]: null } });
        expect(cleared.status).toBe(400);
        expect((await problem(cleared)).errors[0].path).toBe(name);

        // SCIM create; fields SCIM does not carry are reported by their REST name
        const p = placement(name);
        const scimPath = p ? scimErrorPath(p) : name;
        const body = scimUser({ schemas: [CORE, ENTERPRISE] });
        if (name === "userName") delete body.userName;
        const err = await scimError(await scim(t, "/Users", { method: "POST", body }), 400, "invalidValue");
        expect(err.detail).toContain(scimPath);
        if (p) {
          const ok = await scim(t, "/Users", { method: "POST", body: scimWith(p, valueOf(name)) });
          expect(ok.status, await ok.clone().text()).toBe(201);
          const su = await scimBody(ok);
          // PUT without it and PATCH removing it are refused too.
          const { id, meta, ...put } = su;
          void meta;
          delete (p.container ? put[p.container] : put)[p.attr];
          await scimError(await scim(t, `/Users/${id}`, { method: "PUT", body: put }), 400, "invalidValue");
          const removed = await scimError(await scim(t, `/Users/${id}`, { method: "PATCH", body: patch({ op: "remove", path: scimPath }) }), 400, "invalidValue");
          expect(removed.detail).toContain(scimPath);
        }

        // Bulk invitations: the entry without it fails on its own, naming it
        const out = await json(await t.call("/v1/invitations", { body: { users: [newUser(), newUser({ [name]: valueOf(name) })] } }));
        expect(out.results.map((r: { status: string }) => r.status)).toEqual(["error", "created"]);
        expect(out.results[0].errors.map((e: { path: string }) => e.path)).toEqual([`users[0].${name}`]);
      } finally {
        await t.call(`/v1/available-attributes/${name}`, { method: "PATCH", body: { required: false } });
      }
    });
  }
});

describe("required userName", () => {
  it("means an explicit userName on every user, which may equal the email and is then kept over SCIM too", async () => {
    const t = await createTenant();
    await t.call("/v1/available-attributes/userName", { method: "PATCH", body: { required: true } });
    const rest = newUser();
    const created = await json(await t.call("/v1/users", { body: { ...rest, userName: rest.email } }));
    expect(created.userName).toBe(rest.email);
    // Over SCIM, a userName equal to the email is stored as sent (not as "follows the email").
    const s = scimUser();
    const su = await scimBody(await scim(t, "/Users", { method: "POST", body: s }));
    expect(su.userName).toBe(s.userName);
    const again = await scim(t, `/Users/${su.id}`, { method: "PATCH", body: patch({ op: "replace", path: "title", value: "T" }) });
    expect(again.status).toBe(200);
    const changed = await json(await t.call(`/v1/users/${su.id}`, { method: "PATCH", body: { email: `moved.${s.userName}` } }));
    expect(changed.userName).toBe(s.userName);
  });

  it("a custom attribute sharing a built-in's name stays separate, and ?builtIn=true addresses the built-in", async () => {
    const t = await createTenant();
    expect((await t.call("/v1/available-attributes", { body: { key: "costCenter", type: "string" } })).status).toBe(201);
    const { data } = await json<{ data: Array<Record<string, any>> }>(await t.call("/v1/available-attributes"));
    expect(data.filter((a) => a.key === "costCenter").map((a) => a.builtIn)).toEqual([false, true]);
    expect((await json(await t.call("/v1/available-attributes/costCenter?builtIn=true", { method: "PATCH", body: { required: true } }))).builtIn).toBe(true);
    const missing = await t.call("/v1/users", { body: newUser({ attributes: { costCenter: "custom" } }) });
    expect((await problem(missing)).errors.map((e: { path: string }) => e.path)).toEqual(["costCenter"]);
    const ok = await json(await t.call("/v1/users", { body: newUser({ costCenter: "CC-1", attributes: { costCenter: "custom" } }) }));
    expect([ok.costCenter, ok.attributes.costCenter]).toEqual(["CC-1", "custom"]);
    // The custom one can still be made required and removed by its key.
    expect((await json(await t.call("/v1/available-attributes/costCenter", { method: "PATCH", body: { required: true } }))).builtIn).toBe(false);
    expect((await t.call("/v1/available-attributes/costCenter", { method: "DELETE" })).status).toBe(204);
    expect((await t.call("/v1/available-attributes/costCenter", { method: "DELETE" })).status).toBe(409);
  });
});
