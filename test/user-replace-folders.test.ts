/** PUT /v1/users/{id} (full replace), folders as a collection kind, doNotEmail, and the new fields in XML and OpenAPI. */
import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, createUser, newUser, problem, type TestTenant } from "./helpers";

let t: TestTenant;
beforeAll(async () => {
  t = await createTenant();
});

async function waitFor(id: string, done: (u: Record<string, any>) => boolean): Promise<Record<string, any>> {
  for (let i = 0; i < 100; i++) {
    const u = (await (await t.call(`/v1/users/${id}`)).json()) as Record<string, any>;
    if (done(u)) return u;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("provisioning did not finish");
}

describe("PUT /v1/users/{id}", () => {
  it("replaces: what is not sent is cleared, custom attributes too; the password stays", async () => {
    await t.call("/v1/available-attributes", { body: { key: "site", type: "string" } });
    const u = await createUser(t, { title: "Engineer", department: "R&D", phone: "+45 1", doNotEmail: true, password: "Long-Enough-Password-1", attributes: { site: "CPH" } });
    const res = await t.call(`/v1/users/${u.id}`, { method: "PUT", body: { firstName: "Grace", lastName: "Hopper", email: u.email, externalId: u.externalId, title: "Admiral" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe(`W/"${u.version + 1}"`);
    const user = (await res.json()) as Record<string, unknown>;
    expect(user).toMatchObject({ firstName: "Grace", lastName: "Hopper", title: "Admiral", department: null, phone: null, doNotEmail: false, attributes: {}, hasPassword: true, active: true });
  });

  it("refuses to clear what is required, naming each field", async () => {
    const u = await createUser(t);
    const res = await t.call(`/v1/users/${u.id}`, { method: "PUT", body: { firstName: "Only" } });
    expect(res.status).toBe(400);
    const paths = (await problem(res)).errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(["email", "externalId", "lastName"]);
    // A tenant-required field is required on PUT too.
    const c = await createTenant();
    await c.call("/v1/available-attributes/department", { method: "PATCH", body: { required: true } });
    const v = await createUser(c, { department: "Sales" });
    const r2 = await c.call(`/v1/users/${v.id}`, { method: "PUT", body: { firstName: "A", lastName: "B", email: v.email, externalId: v.externalId } });
    expect(r2.status).toBe(400);
    expect((await problem(r2)).errors).toEqual([{ path: "department", message: "is required and cannot be cleared" }]);
  });

  it("honours If-Match", async () => {
    const u = await createUser(t);
    const body = { firstName: "A", lastName: "B", email: u.email, externalId: u.externalId };
    expect((await t.call(`/v1/users/${u.id}`, { method: "PUT", body, headers: { "If-Match": 'W/"99"' } })).status).toBe(412);
    expect((await t.call(`/v1/users/${u.id}`, { method: "PUT", body, headers: { "If-Match": `W/"${u.version}"` } })).status).toBe(200);
    expect((await t.call(`/v1/users/nobody`, { method: "PUT", body })).status).toBe(404);
  });

  it("takes XML bodies and answers in XML", async () => {
    const u = await createUser(t);
    const xml = `<user><firstName>X</firstName><lastName>Y</lastName><email>${u.email}</email><externalId>${u.externalId}</externalId><doNotEmail type="boolean">true</doNotEmail></user>`;
    const res = await t.call(`/v1/users/${u.id}?format=xml`, { method: "PUT", rawBody: xml, headers: { "Content-Type": "application/xml" } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("<firstName>X</firstName>");
    expect(text).toContain('<doNotEmail type="boolean">true</doNotEmail>');
    expect(text).toContain('<lastActivityAt nil="true"');
  });
});

describe("folders", () => {
  it("are a collection kind: /v1/folders, folders: [ids] on users, memberships and the feed", async () => {
    const res = await t.call("/v1/folders", { body: { name: "Handbooks" } });
    expect(res.status).toBe(201);
    const folder = (await res.json()) as { id: string; kind: string };
    expect(folder.kind).toBe("folder");
    const u = await createUser(t, { folders: [folder.id] });
    const done = await waitFor(u.id, (x) => x.provisioning?.status === "completed");
    expect(done.memberships.folders.map((f: { id: string }) => f.id)).toEqual([folder.id]);
    const members = (await (await t.call(`/v1/folders/${folder.id}/members`)).json()) as { data: Array<{ userId: string }> };
    expect(members.data.map((m) => m.userId)).toEqual([u.id]);
    const feed = await (await t.call("/v1/events?types=membership.added")).text();
    expect(feed).toContain('"kind":"folder"');
    // PATCH folders: [] removes the manual membership.
    await t.call(`/v1/users/${u.id}`, { method: "PATCH", body: { folders: [] } });
    const after = await waitFor(u.id, (x) => x.provisioning?.status === "completed" && x.memberships.folders.length === 0);
    expect(after.memberships.folders).toEqual([]);
  });

  it("take audience rules like every kind", async () => {
    const res = await t.call("/v1/folders", { body: { name: "Sales docs", rule: 'department eq "Sales"' } });
    const folder = (await res.json()) as { id: string; kind: string };
    const u = await createUser(t, { department: "Sales" });
    const done = await waitFor(u.id, (x) => x.memberships?.folders?.length === 1);
    expect(done.memberships.folders[0]).toMatchObject({ id: folder.id, source: "rule" });
  });

  it("refuse unknown ids as provisioning errors", async () => {
    const u = await createUser(t, { folders: ["no-such-folder"] });
    const done = await waitFor(u.id, (x) => x.provisioning?.status !== "pending");
    expect(done.provisioning.status).toBe("failed");
  });
});

describe("doNotEmail", () => {
  it("is accepted on create, and invitations of such users say no email is to be sent", async () => {
    const u = await createUser(t, { doNotEmail: true });
    expect(u.doNotEmail).toBe(true);
    const entry = newUser({ doNotEmail: true });
    const out = (await (await t.call("/v1/invitations", { body: { sendEmail: true, users: [entry, newUser()] } })).json()) as { results: Array<{ userId: string }> };
    const feed = (await (await t.call("/v1/events?types=invitation.created")).json()) as { data: Array<{ subjectId: string; data: Record<string, unknown> }> };
    const mail = (id: string) => feed.data.find((e) => e.subjectId === id)!.data;
    expect(mail(out.results[0]!.userId)).toMatchObject({ sendEmail: false, doNotEmail: true });
    expect(mail(out.results[1]!.userId)).toMatchObject({ sendEmail: true, doNotEmail: false });
    const inv = (await (await t.call(`/v1/invitations?limit=10`)).json()) as { data: Array<{ userId: string; sendEmail: boolean }> };
    expect(inv.data.find((i) => i.userId === out.results[0]!.userId)?.sendEmail).toBe(false);
  });
});

describe("the OpenAPI document", () => {
  it("describes the new routes and fields", async () => {
    const doc = (await (await t.call("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, any> } };
    expect(Object.keys(doc.paths["/v1/users/{id}"]!)).toContain("put");
    for (const p of ["/v1/users/{id}/password/verify", "/v1/users/{id}/activity", "/v1/users/{id}/devices", "/v1/users/{id}/devices/{deviceId}", "/v1/users/{id}/devices/{deviceId}/seen", "/v1/folders"]) {
      expect(doc.paths[p], p).toBeDefined();
    }
    const create = doc.components.schemas.UserCreate.properties;
    expect(create.password).toMatchObject({ writeOnly: true, format: "password" });
    expect(create.folders).toBeDefined();
    const user = doc.components.schemas.User.properties;
    expect(user.password).toBeUndefined();
    expect(user.lastActivityAt).toMatchObject({ readOnly: true });
  });
});
