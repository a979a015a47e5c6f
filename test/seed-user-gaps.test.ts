/**
 * The rest of the seed user (issue 16): folders over SCIM (the service extension), the ETag
 * following lastActivityAt, an expired lock not shown, and PUT /v1/users/{id} taking back what a
 * GET returned.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { READ_ONLY_FIELDS } from "../src/users/fields";
import { UserCreateSchema, UserSchema } from "../src/rest/users/users.schemas";
import { createTenant, createUser, problem, type TestTenant } from "./helpers";
import { CORE, createScimUser, ENTERPRISE, patch, PROVISIONING_EXT, scim, scimBody, scimError, scimUser } from "./scim/helpers";
import { clockedApp } from "./support/clocked";

const EXT = PROVISIONING_EXT;
const FOLDERS = `${EXT}:folders`;

let t: TestTenant;
let alpha: string;
let beta: string;
beforeAll(async () => {
  t = await createTenant();
  alpha = await folder(t, "Alpha");
  beta = await folder(t, "Beta");
});

async function folder(tenant: TestTenant, name: string, kind = "folders"): Promise<string> {
  const res = await tenant.call(`/v1/${kind}`, { body: { name } });
  if (res.status !== 201) throw new Error(`create ${kind} failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/** Waits for the consumer to apply the user's latest change (REST shows its provisioning). */
async function settled(userId: string): Promise<Record<string, any>> {
  return vi.waitUntil(
    async () => {
      const body = (await (await t.call(`/v1/users/${userId}`)).json()) as Record<string, any>;
      if (body.provisioning?.status === "failed") throw new Error(`provisioning failed: ${JSON.stringify(body.provisioning)}`);
      return body.provisioning?.status === "completed" ? body : false;
    },
    { timeout: 10_000, interval: 50 },
  );
}

async function scimGet(id: string, query = ""): Promise<Record<string, any>> {
  const res = await scim(t, `/Users/${id}${query}`);
  expect(res.status).toBe(200);
  return scimBody(res);
}

const values = (u: Record<string, any>) => ((u[EXT]?.folders ?? []) as Array<{ value: string }>).map((f) => f.value);

describe("folders over SCIM (the service extension)", () => {
  it("round trip: create, GET, PATCH add/remove, PUT replace; REST agrees", async () => {
    const created = await createScimUser(t, { schemas: [CORE, EXT], [EXT]: { folders: [{ value: alpha }] } });
    expect(created.schemas).toContain(EXT);
    expect(created[EXT].folders).toEqual([{ value: alpha, display: "Alpha" }]);
    const rest = await settled(created.id);
    expect(rest.memberships.folders.map((f: { id: string }) => f.id)).toEqual([alpha]);
    expect((await scimGet(created.id))[EXT].folders).toEqual([{ value: alpha, display: "Alpha" }]);

    // PATCH add (a path with the URN), then remove by a value filter.
    let res = await scim(t, `/Users/${created.id}`, { method: "PATCH", body: patch({ op: "add", path: FOLDERS, value: [{ value: beta }] }) });
    expect(res.status).toBe(200);
    expect((await scimBody(res))[EXT].folders).toEqual([
      { value: alpha, display: "Alpha" },
      { value: beta, display: "Beta" },
    ]);
    await settled(created.id);
    expect(values(await scimGet(created.id))).toEqual([alpha, beta]);
    res = await scim(t, `/Users/${created.id}`, { method: "PATCH", body: patch({ op: "remove", path: `${FOLDERS}[value eq "${alpha}"]` }) });
    expect(res.status).toBe(200);
    expect(values(await scimBody(res))).toEqual([beta]);
    const afterRemove = await settled(created.id);
    expect(afterRemove.memberships.folders.map((f: { id: string }) => f.id)).toEqual([beta]);

    // PUT: the GET's body with another list replaces them; without the attribute keeps them.
    const current = await scimGet(created.id);
    res = await scim(t, `/Users/${created.id}`, { method: "PUT", body: { ...current, [EXT]: { folders: [{ value: alpha }] } } });
    expect(res.status).toBe(200);
    await settled(created.id);
    expect(values(await scimGet(created.id))).toEqual([alpha]);
    const { [EXT]: _ext, ...withoutExtension } = current;
    res = await scim(t, `/Users/${created.id}`, { method: "PUT", body: { ...withoutExtension, title: "Kept folders" } });
    expect(res.status).toBe(200);
    expect(values(await scimBody(res))).toEqual([alpha]);

    // Removing the attribute removes them all; the extension then disappears from the user.
    res = await scim(t, `/Users/${created.id}`, { method: "PATCH", body: patch({ op: "remove", path: FOLDERS }) });
    expect(res.status).toBe(200);
    const cleared = await settled(created.id);
    expect(cleared.memberships.folders).toEqual([]);
    const user = await scimGet(created.id);
    expect(user[EXT]).toBeUndefined();
    expect(user.schemas).not.toContain(EXT);
  });

  it("a PATCH of other attributes asks for no membership change; pathless and bare-name forms work", async () => {
    const u = await createScimUser(t, { [EXT]: { folders: [{ value: alpha }] } });
    await settled(u.id);
    const before = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE subject_id = ? AND type = 'user.memberships_requested'").bind(u.id).first<{ n: number }>();
    let res = await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: "title", value: "Other" }) });
    expect(values(await scimBody(res))).toEqual([alpha]);
    const after = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE subject_id = ? AND type = 'user.memberships_requested'").bind(u.id).first<{ n: number }>();
    expect(after!.n).toBe(before!.n);
    // Pathless, extension-keyed (as Entra sends extension attributes).
    res = await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", value: { [EXT]: { folders: [{ value: beta }] } } }) });
    expect(res.status).toBe(200);
    await settled(u.id);
    expect(values(await scimGet(u.id))).toEqual([beta]);
    // A bare `folders` path resolves to the extension.
    res = await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "add", path: "folders", value: [{ value: alpha }] }) });
    expect(res.status).toBe(200);
    await settled(u.id);
    expect(values(await scimGet(u.id))).toEqual([alpha, beta]);
  });

  it("unknown ids, another tenant's folders and other kinds are 400s naming the attribute; nothing is written", async () => {
    const other = await createTenant();
    const foreign = await folder(other, "Theirs");
    const group = await folder(t, "Not a folder", "groups");
    for (const id of ["no-such-folder", foreign, group]) {
      const body = await scimError(await scim(t, "/Users", { method: "POST", body: scimUser({ [EXT]: { folders: [{ value: id }] } }) }), 400, "invalidValue");
      expect(body.detail).toContain(FOLDERS);
      expect(body.detail).toContain(id);
    }
    const u = await createScimUser(t);
    const version = u.meta.version;
    let body = await scimError(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "add", path: FOLDERS, value: [{ value: foreign }] }) }), 400, "invalidValue");
    expect(body.detail).toContain(`${FOLDERS}: no folder with id '${foreign}'`);
    body = await scimError(await scim(t, `/Users/${u.id}`, { method: "PUT", body: { ...u, [EXT]: { folders: [{ value: alpha }, { value: "nope" }] } } }), 400, "invalidValue");
    expect(body.detail).toContain("'nope'");
    expect(body.detail).not.toContain(`'${alpha}'`);
    const again = await scimGet(u.id);
    expect(again.meta.version).toBe(version);
    expect(again[EXT]).toBeUndefined();
    // A bare id as the value (no {value: ...} object) is taken too.
    const res = await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", value: { [`${EXT}:folders`]: alpha } }) });
    expect(res.status).toBe(200);
    expect(values(await scimBody(res))).toEqual([alpha]);
    // The other tenant cannot see this user's folders, nor this user.
    expect((await scim(other, `/Users/${u.id}`)).status).toBe(404);
  });

  it("are projected by attributes / excludedAttributes and shown in lists; a filter on them is refused", async () => {
    const u = await createScimUser(t, { title: "Projected", [EXT]: { folders: [{ value: beta }] } });
    await settled(u.id);
    const only = await scimGet(u.id, `?attributes=${encodeURIComponent(FOLDERS)}`);
    expect(only[EXT]).toEqual({ folders: [{ value: beta, display: "Beta" }] });
    expect(only.title).toBeUndefined();
    const without = await scimGet(u.id, `?excludedAttributes=${encodeURIComponent(FOLDERS)}`);
    expect(without[EXT]?.folders).toBeUndefined();
    expect(without.title).toBe("Projected");
    const list = await scimBody(await scim(t, `/Users?filter=${encodeURIComponent(`userName eq "${u.userName}"`)}`));
    expect(list.Resources[0][EXT].folders).toEqual([{ value: beta, display: "Beta" }]);
    // Collection memberships are not SCIM filter attributes (groups are not either).
    await scimError(await scim(t, `/Users?filter=${encodeURIComponent(`${FOLDERS}.value eq "${beta}"`)}`), 400, "invalidFilter");
  });

  it("/Schemas describes the extension and /ResourceTypes/User lists it", async () => {
    const schema = await scimBody(await scim(t, `/Schemas/${EXT}`));
    const folders = schema.attributes.find((a: { name: string }) => a.name === "folders");
    expect(folders).toMatchObject({ type: "complex", multiValued: true, mutability: "readWrite" });
    expect(folders.subAttributes.map((s: { name: string; mutability: string }) => [s.name, s.mutability])).toEqual([
      ["value", "readWrite"],
      ["display", "readOnly"],
    ]);
    expect(schema.attributes.find((a: { name: string }) => a.name === "lockedUntil")).toMatchObject({ type: "dateTime", mutability: "readOnly" });
    const all = await scimBody(await scim(t, "/Schemas"));
    expect(all.Resources.map((s: { id: string }) => s.id)).toContain(EXT);
    const type = await scimBody(await scim(t, "/ResourceTypes/User"));
    expect(type.schemaExtensions).toContainEqual({ schema: EXT, required: false });
    expect(type.schemaExtensions).toContainEqual({ schema: ENTERPRISE, required: false });
  });
});

describe("lastActivityAt and the ETag", () => {
  it("an activity write that lands changes the ETag (REST and SCIM); a coalesced repeat does not", async () => {
    const { clock, call } = clockedApp(Date.UTC(2026, 2, 1));
    const u = await createUser(t);
    const etag = async () => (await call(t, `/v1/users/${u.id}`)).headers.get("ETag");
    const scimVersion = async () => ((await (await call(t, `/scim/v2/Users/${u.id}`, { headers: { Accept: "application/scim+json" } })).json()) as any).meta.version;
    const first = await etag();
    expect(first).toBe(`W/"${u.version}"`);

    expect((await call(t, `/v1/users/${u.id}/activity`, { method: "POST" })).status).toBe(200);
    const second = await etag();
    expect(second).toBe(`W/"${u.version + 1}"`);
    expect(await scimVersion()).toBe(second);
    // A client holding the old copy gets the new one, and cannot write over what it never saw.
    expect((await call(t, `/v1/users/${u.id}`, { headers: { "If-None-Match": first! } })).status).toBe(200);
    expect((await call(t, `/v1/users/${u.id}`, { headers: { "If-None-Match": second! } })).status).toBe(304);
    expect((await call(t, `/v1/users/${u.id}`, { method: "PATCH", body: { title: "x" }, headers: { "If-Match": first! } })).status).toBe(412);

    clock.advance(30_000);
    const coalesced = (await (await call(t, `/v1/users/${u.id}/activity`, { method: "POST" })).json()) as { recorded: boolean };
    expect(coalesced.recorded).toBe(false);
    expect(await etag()).toBe(second);

    clock.advance(30_000);
    await call(t, `/v1/users/${u.id}/activity`, { method: "POST" });
    expect(await etag()).toBe(`W/"${u.version + 2}"`);
    const scimUserNow = (await (await call(t, `/scim/v2/Users/${u.id}`, { headers: { Accept: "application/scim+json" } })).json()) as any;
    expect(scimUserNow[EXT].lastActivityAt).toBe("2026-03-01T00:01:00.000Z");
  });
});

describe("an expired lock", () => {
  it("is shown while in the future and hidden after, by the request's clock: REST, lists, XML, SCIM", async () => {
    const start = Date.UTC(2026, 3, 1);
    const { clock, call } = clockedApp(start);
    const u = await createUser(t);
    const until = start + 60_000;
    await env.DB.prepare("UPDATE users SET locked_until = ? WHERE tenant_id = ? AND id = ?").bind(until, t.id, u.id).run();
    const iso = new Date(until).toISOString();
    const scimGetAt = async () => (await (await call(t, `/scim/v2/Users/${u.id}`, { headers: { Accept: "application/scim+json" } })).json()) as any;
    const listed = async () => ((await (await call(t, `/v1/users?filter=${encodeURIComponent(`id eq "${u.id}"`)}`)).json()) as { data: any[] }).data[0];

    expect(((await (await call(t, `/v1/users/${u.id}`)).json()) as any).lockedUntil).toBe(iso);
    expect((await listed()).lockedUntil).toBe(iso);
    expect(await (await call(t, `/v1/users/${u.id}?format=xml`)).text()).toContain(`<lockedUntil>${iso}</lockedUntil>`);
    expect((await scimGetAt())[EXT].lockedUntil).toBe(iso);

    clock.advance(59_999);
    expect(((await (await call(t, `/v1/users/${u.id}`)).json()) as any).lockedUntil).toBe(iso);
    clock.advance(1);
    expect(((await (await call(t, `/v1/users/${u.id}`)).json()) as any).lockedUntil).toBeNull();
    expect((await listed()).lockedUntil).toBeNull();
    expect(await (await call(t, `/v1/users/${u.id}?format=xml`)).text()).toMatch(/<lockedUntil nil="true"\s*\/>/);
    expect((await scimGetAt())[EXT]).toBeUndefined();
  });
});

describe("a lock and the ETag", () => {
  it("the failure that sets the lock bumps the version; other failures and checks do not", async () => {
    const { clock, call } = clockedApp(Date.UTC(2026, 4, 1));
    const res = await t.call("/v1/api-tokens", { body: { name: "sign-in", scopes: ["auth"] } });
    const auth = ((await res.json()) as { token: string }).token;
    const u = await createUser(t, { password: "A-Long-Enough-Secret-1" });
    const version = async () => ((await (await call(t, `/v1/users/${u.id}`)).json()) as any).version as number;
    const check = (password: string) => call(t, `/v1/users/${u.id}/password/verify`, { token: auth, body: { password } });
    for (let i = 0; i < 4; i++) await check(`wrong-${i}-password`);
    expect(await version()).toBe(u.version);
    await check("wrong-5-password");
    expect(await version()).toBe(u.version + 1);
    expect((await check("A-Long-Enough-Secret-1")).status).toBe(423);
    expect(await version()).toBe(u.version + 1);
    clock.advance(15 * 60_000);
    expect(await (await check("A-Long-Enough-Secret-1")).json()).toMatchObject({ valid: true });
    expect(await version()).toBe(u.version + 1);
  });
});

describe("PUT /v1/users/{id} with what GET returned", () => {
  it("GET, edit, PUT back succeeds: read-only members are ignored", async () => {
    const u = await createUser(t, { title: "Before", folders: [alpha] });
    const got = await settled(u.id);
    expect(got.memberships).toBeDefined();
    expect(got.provisioning).toBeDefined();
    const res = await t.call(`/v1/users/${u.id}`, { method: "PUT", body: { ...got, title: "After", version: 999, createdAt: "1999-01-01T00:00:00Z", hasPassword: true } });
    expect(res.status).toBe(200);
    const put = (await res.json()) as Record<string, any>;
    expect(put).toMatchObject({ id: u.id, title: "After", version: got.version + 1, createdAt: got.createdAt, hasPassword: false });
    // Memberships are not an input: the folder is kept (as when the id lists are not sent).
    const after = await settled(u.id);
    expect(after.memberships.folders.map((f: { id: string }) => f.id)).toEqual([alpha]);
    // The same in XML: the GET's document, edited, goes back as it came.
    const xml = await (await t.call(`/v1/users/${u.id}?format=xml`)).text();
    expect(xml).toContain("<memberships>");
    const edited = xml.replace("<title>After</title>", "<title>From XML</title>");
    const xmlPut = await t.call(`/v1/users/${u.id}?format=xml`, { method: "PUT", rawBody: edited, headers: { "Content-Type": "application/xml" } });
    expect(xmlPut.status).toBe(200);
    expect(await xmlPut.text()).toContain("<title>From XML</title>");
  });

  it("an id that differs from the path is a 400 naming id; the same id is fine", async () => {
    const u = await createUser(t);
    const other = await createUser(t);
    const body = { firstName: "A", lastName: "B", email: u.email, externalId: u.externalId };
    const res = await t.call(`/v1/users/${u.id}`, { method: "PUT", body: { ...body, id: other.id } });
    expect(res.status).toBe(400);
    const p = await problem(res);
    expect(p.errors).toEqual([{ path: "id", message: expect.stringContaining(u.id) }]);
    expect(((await (await t.call(`/v1/users/${u.id}`)).json()) as any).version).toBe(u.version);
    expect((await t.call(`/v1/users/${u.id}`, { method: "PUT", body: { ...body, id: u.id } })).status).toBe(200);
    // Unknown members are still refused: only the representation's read-only ones are let through.
    const unknown = await t.call(`/v1/users/${u.id}`, { method: "PUT", body: { ...body, colour: "red" } });
    expect(unknown.status).toBe(400);
  });

  it("the ignored members are exactly the response's members that UserCreate does not take", () => {
    const responseOnly = Object.keys(UserSchema.shape).filter((k) => !(k in UserCreateSchema.shape));
    expect([...READ_ONLY_FIELDS].sort()).toEqual(responseOnly.sort());
  });

  it("SCIM PUT of a GET's body (id, meta, schemas, readOnly sub-attributes) succeeds; a different id in the body is ignored", async () => {
    const u = await createScimUser(t, { [ENTERPRISE]: { department: "Ops" }, [EXT]: { folders: [{ value: beta }] } });
    await settled(u.id);
    const got = await scimGet(u.id);
    expect(got.name.formatted).toBeDefined();
    let res = await scim(t, `/Users/${u.id}`, { method: "PUT", body: { ...got, title: "Edited" } });
    expect(res.status).toBe(200);
    expect(await scimBody(res)).toMatchObject({ id: u.id, title: "Edited", [ENTERPRISE]: { department: "Ops" }, [EXT]: { folders: [{ value: beta, display: "Beta" }] } });
    res = await scim(t, `/Users/${u.id}`, { method: "PUT", body: { ...got, id: "someone-else", title: "Again" } });
    expect(res.status).toBe(200);
    expect(await scimBody(res)).toMatchObject({ id: u.id, title: "Again" });
  });
});
