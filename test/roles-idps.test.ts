/** Roles and identity providers, and how users reference them. */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, createUser, newUser, problem, type TestTenant } from "./helpers";

let t: TestTenant;
let standard: { id: string };
let admin: { id: string };

async function json<T = Record<string, any>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

beforeAll(async () => {
  t = await createTenant();
  standard = await json(await t.call("/v1/roles", { body: { name: "Standard User", weight: 10, permissions: ["users:read"] } }));
  admin = await json(await t.call("/v1/roles", { body: { name: "Admin", weight: 100, permissions: ["users:read", "users:write"] } }));
});

describe("roles", () => {
  it("lists roles with id, name, weight and permissions, heaviest first", async () => {
    const { data } = await json<{ data: Array<Record<string, unknown>> }>(await t.call("/v1/roles"));
    expect(data.map((r) => r.name)).toEqual(["Admin", "Standard User"]);
    expect(data[0]).toMatchObject({ id: admin.id, weight: 100, permissions: ["users:read", "users:write"] });
  });

  it("validates and keeps names unique", async () => {
    const dup = await t.call("/v1/roles", { body: { name: "Admin" } });
    expect(dup.status).toBe(409);
    const bad = await t.call("/v1/roles", { body: { name: "", weight: -1, permissions: ["has space"] } });
    expect(bad.status).toBe(400);
    expect((await problem(bad)).errors.map((e: { path: string }) => e.path).sort()).toEqual(["name", "permissions[0]", "weight"]);
  });

  it("a user's role must name an existing role exactly, and the error lists the valid names", async () => {
    const wrongCase = await t.call("/v1/users", { body: newUser({ role: "admin" }) });
    expect(wrongCase.status).toBe(400);
    const body = await problem(wrongCase);
    expect(body.errors[0].path).toBe("role");
    expect(body.errors[0].message).toContain('did you mean "Admin"');
    expect(body.errors[0].message).toContain('"Standard User"');
    const ok = await json(await t.call("/v1/users", { body: newUser({ role: "Admin" }) }));
    expect(ok).toMatchObject({ role: "Admin", roleId: admin.id });
    const byId = await json(await t.call("/v1/users", { body: newUser({ roleId: standard.id }) }));
    expect(byId).toMatchObject({ role: "Standard User" });
    const unknownId = await t.call("/v1/users", { body: newUser({ roleId: "nope" }) });
    expect((await problem(unknownId)).errors[0].path).toBe("roleId");
    const cleared = await json(await t.call(`/v1/users/${ok.id}`, { method: "PATCH", body: { role: null } }));
    expect(cleared).toMatchObject({ role: null, roleId: null });
  });

  it("renaming a role shows on its users at once", async () => {
    const role = await json(await t.call("/v1/roles", { body: { name: "Auditor" } }));
    const user = await createUser(t, { role: "Auditor" });
    await t.call(`/v1/roles/${role.id}`, { method: "PATCH", body: { name: "External Auditor" } });
    expect(await json(await t.call(`/v1/users/${user.id}`))).toMatchObject({ role: "External Auditor", version: 1 });
  });

  it("deleting a held role is 409 unless its users are reassigned, which bumps them with events", async () => {
    const role = await json(await t.call("/v1/roles", { body: { name: "Temp" } }));
    const a = await createUser(t, { role: "Temp" });
    const b = await createUser(t, { role: "Temp" });
    const refused = await t.call(`/v1/roles/${role.id}`, { method: "DELETE" });
    expect(refused.status).toBe(409);
    expect(await problem(refused)).toMatchObject({ userCount: 2 });
    expect((await t.call(`/v1/roles/${role.id}?reassignTo=${role.id}`, { method: "DELETE" })).status).toBe(400);
    expect((await t.call(`/v1/roles/${role.id}?reassignTo=missing`, { method: "DELETE" })).status).toBe(400);
    expect((await t.call(`/v1/roles/${role.id}?reassignTo=${standard.id}`, { method: "DELETE" })).status).toBe(204);
    for (const u of [a, b]) {
      expect(await json(await t.call(`/v1/users/${u.id}`))).toMatchObject({ role: "Standard User", version: 2 });
      const events = await env.DB.prepare("SELECT id, type, data FROM events WHERE tenant_id = ? AND subject_id = ? ORDER BY seq").bind(t.id, u.id).all<{ id: string; type: string; data: string }>();
      expect(events.results.map((e) => e.type)).toEqual(["user.created", "user.updated"]);
      expect(events.results[1]!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(JSON.parse(events.results[1]!.data)).toEqual({ changes: { roleId: standard.id } });
    }
    expect((await t.call(`/v1/roles/${role.id}`)).status).toBe(404);
  });

  it("only admins manage roles; readers may list them", async () => {
    const reader = await json(await t.call("/v1/api-tokens", { body: { name: "r", scopes: ["users:read"] } }));
    expect((await t.call("/v1/roles", { token: reader.token })).status).toBe(200);
    expect((await t.call("/v1/roles", { token: reader.token, body: { name: "X" } })).status).toBe(403);
  });
});

describe("identity providers", () => {
  let okta: Record<string, any>;
  beforeAll(async () => {
    okta = await json(await t.call("/v1/identity-providers", { body: { name: "Okta", prefix: "okta" } }));
  });

  it("lists id, name, prefix and enabled; names and prefixes are unique", async () => {
    const { data } = await json<{ data: unknown[] }>(await t.call("/v1/identity-providers"));
    expect(data).toEqual([expect.objectContaining({ id: okta.id, name: "Okta", prefix: "okta", enabled: true })]);
    const dup = await t.call("/v1/identity-providers", { body: { name: "Okta 2", prefix: "okta" } });
    expect(dup.status).toBe(409);
    expect((await problem(dup)).errors[0].path).toBe("prefix");
    const bad = await t.call("/v1/identity-providers", { body: { name: "X", prefix: "Has Spaces" } });
    expect((await problem(bad)).errors[0].path).toBe("prefix");
  });

  it("binds users to an enabled provider and refuses a disabled or unknown one", async () => {
    const user = await createUser(t, { identityProviderId: okta.id });
    expect(user.identityProviderId).toBe(okta.id);
    const entra = await json(await t.call("/v1/identity-providers", { body: { name: "Entra", prefix: "entra", enabled: false } }));
    const refused = await t.call("/v1/users", { body: newUser({ identityProviderId: entra.id }) });
    expect(refused.status).toBe(400);
    const err = (await problem(refused)).errors[0];
    expect(err.path).toBe("identityProviderId");
    expect(err.message).toMatch(/disabled/);
    const unknown = await t.call("/v1/users", { body: newUser({ identityProviderId: "nope" }) });
    expect((await problem(unknown)).errors[0].message).toMatch(/no identity provider/);
    // Disabling keeps existing bindings, and other edits of a bound user still work.
    await t.call(`/v1/identity-providers/${okta.id}`, { method: "PATCH", body: { enabled: false } });
    const edit = await t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { title: "Still here" } });
    expect(edit.status).toBe(200);
    expect(await json(edit)).toMatchObject({ identityProviderId: okta.id });
    await t.call(`/v1/identity-providers/${okta.id}`, { method: "PATCH", body: { enabled: true } });
  });

  it("removing a provider with bound users needs unbind=true", async () => {
    const idp = await json(await t.call("/v1/identity-providers", { body: { name: "Legacy", prefix: "legacy" } }));
    const user = await createUser(t, { identityProviderId: idp.id });
    expect((await t.call(`/v1/identity-providers/${idp.id}`, { method: "DELETE" })).status).toBe(409);
    expect((await t.call(`/v1/identity-providers/${idp.id}?unbind=true`, { method: "DELETE" })).status).toBe(204);
    expect(await json(await t.call(`/v1/users/${user.id}`))).toMatchObject({ identityProviderId: null, version: 2 });
  });

  it("is per tenant", async () => {
    const other = await createTenant();
    const res = await other.call("/v1/users", { body: newUser({ identityProviderId: okta.id }) });
    expect(res.status).toBe(400);
    expect((await other.call(`/v1/identity-providers/${okta.id}`)).status).toBe(404);
    expect((await other.call(`/v1/roles/${admin.id}`)).status).toBe(404);
  });
});
