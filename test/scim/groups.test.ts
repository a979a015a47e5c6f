/**
 * SCIM /Groups: the Entra group sequences G1-G7 (default and aadOptscim062020 shapes) and the Okta
 * group push steps from shared/reference/scim-clients.md, request by request; filters, PATCH
 * atomicity, excludedAttributes=members, ETags, tenant isolation, and the same memberships as /v1.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, type TestTenant } from "../helpers";
import { GROUP, LIST, createScimUser, patch, scim, scimBody, scimError } from "./helpers";

const ENTRA_LEGACY = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

async function createGroup(t: TestTenant, body: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await scim(t, "/Groups", { method: "POST", body: { schemas: [GROUP], ...body } });
  if (res.status !== 201) throw new Error(`group create failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, any>;
}

async function memberIds(t: TestTenant, id: string): Promise<string[]> {
  const g = await scimBody(await scim(t, `/Groups/${id}`));
  return (g.members ?? []).map((m: any) => m.value).sort();
}

/** The same memberships as /v1 shows them. */
async function restMemberIds(t: TestTenant, id: string): Promise<string[]> {
  const body = (await (await t.call(`/v1/groups/${id}/members?limit=100`)).json()) as any;
  return body.data.map((m: any) => m.userId).sort();
}

async function feed(t: TestTenant, types: string): Promise<any[]> {
  const body = (await (await t.call(`/v1/events?types=${types}&limit=200`)).json()) as any;
  return body.data;
}

const sorted = (ids: string[]) => [...ids].sort();

describe("Entra group sequence (E1 G1-G7, default shapes)", () => {
  let t: TestTenant;
  let u1: string;
  let u2: string;
  let u3: string;
  let gid: string;
  const displayName = `displayName-${Date.now()}`;

  beforeAll(async () => {
    t = await createTenant();
    [u1, u2, u3] = (await Promise.all([createScimUser(t), createScimUser(t), createScimUser(t)])).map((u) => u.id as string) as [string, string, string];
  });

  it("G3 before create: the displayName filter finds nothing (200, empty ListResponse)", async () => {
    const res = await scim(t, `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`displayName eq "${displayName}"`)}`);
    expect(res.status).toBe(200);
    expect(await scimBody(res)).toEqual({ schemas: [LIST], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });
  });

  it("G1: POST with the legacy schema URI and meta gives 201 with members: []", async () => {
    const res = await scim(t, "/Groups", {
      method: "POST",
      body: { schemas: [GROUP, ENTRA_LEGACY], externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", displayName, meta: { resourceType: "Group" } },
    });
    expect(res.status).toBe(201);
    const g = await scimBody(res);
    gid = g.id;
    expect(g).toMatchObject({ schemas: [GROUP], externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", displayName, members: [], meta: { resourceType: "Group" } });
    expect(res.headers.get("Location")).toBe(g.meta.location);
    expect(g.meta.location).toMatch(new RegExp(`/scim/v2/Groups/${gid}$`));
    expect(res.headers.get("ETag")).toBe(g.meta.version);
  });

  it("G2: GET with excludedAttributes=members has no members key", async () => {
    const g = await scimBody(await scim(t, `/Groups/${gid}?excludedAttributes=members`));
    expect(g.id).toBe(gid);
    expect(g).not.toHaveProperty("members");
    expect(g.displayName).toBe(displayName);
  });

  it("G3: the displayName filter finds it (totalResults 1, no members)", async () => {
    const list = await scimBody(await scim(t, `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`displayName eq "${displayName}"`)}`));
    expect(list).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(list.Resources[0].id).toBe(gid);
    expect(list.Resources[0]).not.toHaveProperty("members");
  });

  it("G4: Replace displayName (capitalised op) answers 204 with no body", async () => {
    const res = await scim(t, `/Groups/${gid}`, { method: "PATCH", body: patch({ op: "Replace", path: "displayName", value: `${displayName}updatedDisplayName` }) });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect((await scimBody(await scim(t, `/Groups/${gid}`))).displayName).toBe(`${displayName}updatedDisplayName`);
  });

  it("G5: Add members with $ref null answers 204 and the members appear (also on /v1)", async () => {
    const res = await scim(t, `/Groups/${gid}`, { method: "PATCH", body: patch({ op: "Add", path: "members", value: [{ $ref: null, value: u1 }, { $ref: null, value: u2 }, { $ref: null, value: u3 }] }) });
    expect(res.status).toBe(204);
    expect(await memberIds(t, gid)).toEqual(sorted([u1, u2, u3]));
    expect(await restMemberIds(t, gid)).toEqual(sorted([u1, u2, u3]));
    const g = await scimBody(await scim(t, `/Groups/${gid}`));
    expect(g.members.find((m: any) => m.value === u1)).toMatchObject({ value: u1, type: "User", $ref: expect.stringMatching(new RegExp(`/scim/v2/Users/${u1}$`)), display: expect.any(String) });
  });

  it("G6 (default shape): Remove with path members and a value list removes ONLY the listed member", async () => {
    const res = await scim(t, `/Groups/${gid}`, { method: "PATCH", body: patch({ op: "Remove", path: "members", value: [{ $ref: null, value: u1 }] }) });
    expect(res.status).toBe(204);
    expect(await memberIds(t, gid)).toEqual(sorted([u2, u3]));
  });

  it("G6 (aadOptscim062020 shape): remove members[value eq \"id\"] removes that member", async () => {
    const res = await scim(t, `/Groups/${gid}`, { method: "PATCH", body: patch({ op: "remove", path: `members[value eq "${u2}"]` }) });
    expect(res.status).toBe(204);
    expect(await memberIds(t, gid)).toEqual([u3]);
    expect(await restMemberIds(t, gid)).toEqual([u3]);
  });

  it("the feed carries membership.added and membership.removed for those changes", async () => {
    const added = (await feed(t, "membership.added")).filter((e) => e.data.collection.id === gid);
    const removed = (await feed(t, "membership.removed")).filter((e) => e.data.collection.id === gid);
    expect(sorted(added.map((e) => e.data.userId))).toEqual(sorted([u1, u2, u3]));
    expect(sorted(removed.map((e) => e.data.userId))).toEqual(sorted([u1, u2]));
    expect(added[0].data).toMatchObject({ collection: { id: gid, kind: "group" }, source: "manual" });
    expect(removed[0].data).toMatchObject({ collection: { id: gid, kind: "group" }, reason: "removed" });
  });

  it("G7: DELETE answers 204, then the group is 404 everywhere", async () => {
    expect((await scim(t, `/Groups/${gid}`, { method: "DELETE" })).status).toBe(204);
    await scimError(await scim(t, `/Groups/${gid}`), 404);
    await scimError(await scim(t, `/Groups/${gid}`, { method: "PATCH", body: patch({ op: "add", path: "members", value: [{ value: u1 }] }) }), 404);
    await scimError(await scim(t, `/Groups/${gid}`, { method: "DELETE" }), 404);
    expect((await t.call(`/v1/groups/${gid}`)).status).toBe(404);
    // The name is free again.
    await createGroup(t, { displayName: `${displayName}updatedDisplayName` });
  });
});

describe("Okta group push (O1 OIN PATCH and O6 AIW PUT)", () => {
  let t: TestTenant;
  let a: Record<string, any>;
  let b: Record<string, any>;
  let c: Record<string, any>;

  beforeAll(async () => {
    t = await createTenant();
    [a, b, c] = await Promise.all([createScimUser(t), createScimUser(t), createScimUser(t)]);
  });

  it("create with members: [], import pages, get, rename pathless with id, membership remove+add, full replace, delete", async () => {
    const created = await scim(t, "/Groups", { method: "POST", body: { schemas: [GROUP], displayName: "Test SCIMv2", members: [] } });
    expect(created.status).toBe(201);
    const g = await scimBody(created);
    expect(g.members).toEqual([]);

    const page = await scimBody(await scim(t, "/Groups?startIndex=1&count=100"));
    expect(page).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(typeof page.totalResults).toBe("number");

    const got = await scimBody(await scim(t, `/Groups/${g.id}`));
    expect(got).toMatchObject({ id: g.id, displayName: "Test SCIMv2", members: [] });

    // Rename: pathless replace that includes the id.
    const renamed = await scim(t, `/Groups/${g.id}`, { method: "PATCH", body: patch({ op: "replace", value: { id: g.id, displayName: "Test SCIMv2 renamed" } }) });
    expect(renamed.status).toBe(204);
    expect((await scimBody(await scim(t, `/Groups/${g.id}`))).displayName).toBe("Test SCIMv2 renamed");

    // Membership: add two, then remove one by filter and add another in the same request.
    expect((await scim(t, `/Groups/${g.id}`, { method: "PATCH", body: patch({ op: "add", path: "members", value: [{ value: a.id, display: a.userName }, { value: b.id }] }) })).status).toBe(204);
    const both = await scim(t, `/Groups/${g.id}`, {
      method: "PATCH",
      body: patch({ op: "remove", path: `members[value eq "${a.id}"]` }, { op: "add", path: "members", value: [{ value: c.id, display: c.userName }] }),
    });
    expect(both.status).toBe(204);
    expect(await memberIds(t, g.id)).toEqual(sorted([b.id, c.id]));

    // Full replace of the member list.
    expect((await scim(t, `/Groups/${g.id}`, { method: "PATCH", body: patch({ op: "replace", path: "members", value: [{ value: a.id }] }) })).status).toBe(204);
    expect(await memberIds(t, g.id)).toEqual([a.id]);

    // Group delete.
    expect((await scim(t, `/Groups/${g.id}`, { method: "DELETE" })).status).toBe(204);
    await scimError(await scim(t, `/Groups/${g.id}`), 404);
  });

  it("AIW: POST with members, GET, PUT with the same content (id, meta included), then full-members PUTs", async () => {
    const created = await createGroup(t, { displayName: "AIW push", members: [{ value: a.id, display: a.userName }] });
    expect(created.members.map((m: any) => m.value)).toEqual([a.id]);
    const got = await scimBody(await scim(t, `/Groups/${created.id}`));
    const same = await scim(t, `/Groups/${created.id}`, { method: "PUT", body: got });
    expect(same.status).toBe(200);
    const sameBody = await scimBody(same);
    expect(sameBody.members.map((m: any) => m.value)).toEqual([a.id]);
    expect(sameBody.displayName).toBe("AIW push");

    const put = await scim(t, `/Groups/${created.id}`, { method: "PUT", body: { ...got, members: [{ value: b.id }, { value: c.id }] } });
    expect(put.status).toBe(200);
    expect((await scimBody(put)).members.map((m: any) => m.value).sort()).toEqual(sorted([b.id, c.id]));
    expect(await restMemberIds(t, created.id)).toEqual(sorted([b.id, c.id]));

    // PUT without members leaves them (not asserted); members: [] clears them.
    await scim(t, `/Groups/${created.id}`, { method: "PUT", body: { schemas: [GROUP], displayName: "AIW push 2" } });
    expect(await memberIds(t, created.id)).toEqual(sorted([b.id, c.id]));
    await scim(t, `/Groups/${created.id}`, { method: "PUT", body: { schemas: [GROUP], displayName: "AIW push 2", members: [] } });
    expect(await memberIds(t, created.id)).toEqual([]);
    // PUT kept the externalId it did not mention (none here) and the new name.
    expect((await scimBody(await scim(t, `/Groups/${created.id}`))).displayName).toBe("AIW push 2");
  });
});

describe("Group PATCH semantics", () => {
  let t: TestTenant;
  let users: string[];

  beforeAll(async () => {
    t = await createTenant();
    users = (await Promise.all(Array.from({ length: 4 }, () => createScimUser(t)))).map((u) => u.id as string);
  });

  it("remove members without a value removes every member; an empty value list removes none", async () => {
    const g = await createGroup(t, { displayName: "clear me", members: users.map((value) => ({ value })) });
    expect((await scim(t, `/Groups/${g.id}`, { method: "PATCH", body: patch({ op: "remove", path: "members", value: [] }) })).status).toBe(204);
    expect(await memberIds(t, g.id)).toEqual(sorted(users));
    expect((await scim(t, `/Groups/${g.id}`, { method: "PATCH", body: patch({ op: "remove", path: "members" }) })).status).toBe(204);
    expect(await memberIds(t, g.id)).toEqual([]);
  });

  it("several ids in one filter with or; pathless add of members; replace and remove of externalId", async () => {
    const g = await createGroup(t, { displayName: "or filter", externalId: "ext-or", members: users.map((value) => ({ value })) });
    const [x, y, z, w] = users as [string, string, string, string];
    await scim(t, `/Groups/${g.id}`, { method: "PATCH", body: patch({ op: "remove", path: `members[value eq "${x}" or value eq "${y}"]` }) });
    expect(await memberIds(t, g.id)).toEqual(sorted([z, w]));
    await scim(t, `/Groups/${g.id}`, { method: "PATCH", body: patch({ op: "add", value: { members: [{ value: x }] } }) });
    expect(await memberIds(t, g.id)).toEqual(sorted([x, z, w]));
    await scim(t, `/Groups/${g.id}`, { method: "PATCH", body: patch({ op: "Replace", path: "externalId", value: "ext-or-2" }) });
    expect((await scimBody(await scim(t, `/Groups/${g.id}`))).externalId).toBe("ext-or-2");
    await scim(t, `/Groups/${g.id}`, { method: "PATCH", body: patch({ op: "remove", path: "externalId" }) });
    expect(await scimBody(await scim(t, `/Groups/${g.id}`))).not.toHaveProperty("externalId");
    // A pathless replace with a URN-prefixed key.
    await scim(t, `/Groups/${g.id}`, { method: "PATCH", body: patch({ op: "replace", value: { [`${GROUP}:displayName`]: "or filter 2" } }) });
    expect((await scimBody(await scim(t, `/Groups/${g.id}`))).displayName).toBe("or filter 2");
  });

  it("operations apply in order: add then remove of the same id leaves it out, remove-all then add keeps only the add", async () => {
    const g = await createGroup(t, { displayName: "ordered", members: [{ value: users[0] }, { value: users[1] }] });
    await scim(t, `/Groups/${g.id}`, {
      method: "PATCH",
      body: patch({ op: "add", path: "members", value: [{ value: users[2] }] }, { op: "remove", path: `members[value eq "${users[2]}"]` }),
    });
    expect(await memberIds(t, g.id)).toEqual(sorted([users[0]!, users[1]!]));
    await scim(t, `/Groups/${g.id}`, { method: "PATCH", body: patch({ op: "remove", path: "members" }, { op: "add", path: "members", value: [{ value: users[3] }] }) });
    expect(await memberIds(t, g.id)).toEqual([users[3]]);
  });

  it("answers 200 with the group when attributes asks for a body", async () => {
    const g = await createGroup(t, { displayName: "with body" });
    const res = await scim(t, `/Groups/${g.id}?attributes=displayName,members`, { method: "PATCH", body: patch({ op: "add", path: "members", value: [{ value: users[0] }] }) });
    expect(res.status).toBe(200);
    const body = await scimBody(res);
    expect(body).toMatchObject({ id: g.id, displayName: "with body", members: [{ value: users[0] }] });
    expect(body).not.toHaveProperty("meta");
    expect(res.headers.get("ETag")).toBeTruthy();
  });

  it("is atomic: an unknown user id is 400 invalidValue naming it, and nothing is applied", async () => {
    const g = await createGroup(t, { displayName: "atomic", members: [{ value: users[0] }] });
    const before = await scimBody(await scim(t, `/Groups/${g.id}`));
    const res = await scim(t, `/Groups/${g.id}`, {
      method: "PATCH",
      body: patch(
        { op: "replace", path: "displayName", value: "atomic renamed" },
        { op: "remove", path: `members[value eq "${users[0]}"]` },
        { op: "add", path: "members", value: [{ value: users[1] }, { value: "no-such-user-1" }, { value: "no-such-user-2" }] },
      ),
    });
    const err = await scimError(res, 400, "invalidValue");
    expect(err.detail).toContain("no-such-user-1");
    expect(err.detail).toContain("no-such-user-2");
    expect(err.detail).not.toContain(users[1]);
    const after = await scimBody(await scim(t, `/Groups/${g.id}`));
    expect(after).toEqual(before);
  });

  it("a user of another tenant is unknown here; POST and PUT with unknown members change nothing", async () => {
    const other = await createTenant();
    const stranger = await createScimUser(other);
    const err = await scimError(await scim(t, "/Groups", { method: "POST", body: { schemas: [GROUP], displayName: "strangers", members: [{ value: stranger.id }] } }), 400, "invalidValue");
    expect(err.detail).toContain(stranger.id);
    await scimError(await scim(t, `/Groups?filter=${encodeURIComponent('displayName eq "strangers"')}`).then(async (r) => {
      expect((await scimBody(r)).totalResults).toBe(0);
      return scim(t, "/Groups/none");
    }), 404);
    const g = await createGroup(t, { displayName: "put unknown", members: [{ value: users[0] }] });
    await scimError(await scim(t, `/Groups/${g.id}`, { method: "PUT", body: { schemas: [GROUP], displayName: "changed", members: [{ value: stranger.id }] } }), 400, "invalidValue");
    const after = await scimBody(await scim(t, `/Groups/${g.id}`));
    expect(after.displayName).toBe("put unknown");
    expect(after.members.map((m: any) => m.value)).toEqual([users[0]]);
  });

  it("rejects what it cannot do, naming the field", async () => {
    const g = await createGroup(t, { displayName: "errors" });
    const at = `/Groups/${g.id}`;
    await scimError(await scim(t, at, { method: "PATCH", body: patch({ op: "remove", path: "displayName" }) }), 400, "mutability");
    await scimError(await scim(t, at, { method: "PATCH", body: patch({ op: "replace", path: "id", value: "x" }) }), 400, "mutability");
    await scimError(await scim(t, at, { method: "PATCH", body: patch({ op: "replace", value: { id: "another", displayName: "x" } }) }), 400, "mutability");
    const path = await scimError(await scim(t, at, { method: "PATCH", body: patch({ op: "replace", path: "colour", value: "x" }) }), 400, "invalidPath");
    expect(path.detail).toContain("colour");
    await scimError(await scim(t, at, { method: "PATCH", body: patch({ op: "remove", path: 'members[display eq "x"]' }) }), 400, "invalidFilter");
    await scimError(await scim(t, at, { method: "PATCH", body: patch({ op: "replace", path: 'members[value eq "x"].display', value: "y" }) }), 400, "invalidPath");
    await scimError(await scim(t, at, { method: "PATCH", body: patch({ op: "remove" }) }), 400, "noTarget");
    await scimError(await scim(t, at, { method: "PATCH", body: patch({ op: "replace", path: "displayName", value: "" }) }), 400, "invalidValue");
    const nested = await scimError(await scim(t, at, { method: "PATCH", body: patch({ op: "add", path: "members", value: [{ value: g.id, type: "Group" }] }) }), 400, "invalidValue");
    expect(nested.detail).toContain("nested groups");
    const missing = await scimError(await scim(t, "/Groups", { method: "POST", body: { schemas: [GROUP], members: [] } }), 400, "invalidValue");
    expect(missing.detail).toContain("displayName");
    await createGroup(t, { displayName: "taken", externalId: "taken-ext" });
    await scimError(await scim(t, "/Groups", { method: "POST", body: { schemas: [GROUP], displayName: "taken" } }), 409, "uniqueness");
    await scimError(await scim(t, at, { method: "PATCH", body: patch({ op: "replace", path: "displayName", value: "taken" }) }), 409, "uniqueness");
    await scimError(await scim(t, at, { method: "PATCH", body: patch({ op: "replace", path: "externalId", value: "taken-ext" }) }), 409, "uniqueness");
    // Still unchanged after every failure.
    expect((await scimBody(await scim(t, at))).displayName).toBe("errors");
  });

  it("concurrent PATCHes of one group all apply (a write that loses the version race re-applies)", async () => {
    const g = await createGroup(t, { displayName: "racing" });
    const results = await Promise.all(
      users.map((value) => scim(t, `/Groups/${g.id}`, { method: "PATCH", body: patch({ op: "add", path: "members", value: [{ value }] }) })),
    );
    expect(results.map((r) => r.status)).toEqual(users.map(() => 204));
    expect(await memberIds(t, g.id)).toEqual(sorted(users));
    const added = (await feed(t, "membership.added")).filter((e) => e.data.collection.id === g.id);
    expect(sorted(added.map((e) => e.data.userId))).toEqual(sorted(users));
  });

  it("ETags: meta.version changes with member changes; If-None-Match 304, If-Match 412", async () => {
    const g = await createGroup(t, { displayName: "etags" });
    const v1 = g.meta.version;
    const notModified = await scim(t, `/Groups/${g.id}`, { headers: { "If-None-Match": v1 } });
    expect(notModified.status).toBe(304);
    const res = await scim(t, `/Groups/${g.id}`, { method: "PATCH", body: patch({ op: "add", path: "members", value: [{ value: users[0] }] }), headers: { "If-Match": v1 } });
    expect(res.status).toBe(204);
    const v2 = res.headers.get("ETag");
    expect(v2).not.toBe(v1);
    expect((await scimBody(await scim(t, `/Groups/${g.id}`))).meta.version).toBe(v2);
    await scimError(await scim(t, `/Groups/${g.id}`, { method: "PATCH", body: patch({ op: "remove", path: "members" }), headers: { "If-Match": v1 } }), 412);
    await scimError(await scim(t, `/Groups/${g.id}`, { method: "PUT", body: { displayName: "x" }, headers: { "If-Match": v1 } }), 412);
    await scimError(await scim(t, `/Groups/${g.id}`, { method: "DELETE", headers: { "If-Match": v1 } }), 412);
    expect(await memberIds(t, g.id)).toEqual([users[0]]);
  });
});

describe("Group reads: filters, paging, attributes", () => {
  let t: TestTenant;
  const ids: string[] = [];

  beforeAll(async () => {
    t = await createTenant();
    const u = await createScimUser(t);
    for (let i = 0; i < 5; i++) ids.push((await createGroup(t, { displayName: `Team ${i}`, externalId: `ext-${i}`, members: [{ value: u.id }] })).id);
  });

  const list = async (qs: string) => scimBody(await scim(t, `/Groups?${qs}`));

  it("filters by displayName (ignoring case), externalId (exact), and combinations; unknown attributes are invalidFilter", async () => {
    expect((await list(`filter=${encodeURIComponent('displayName eq "team 3"')}`)).Resources.map((g: any) => g.id)).toEqual([ids[3]]);
    expect((await list(`filter=${encodeURIComponent('externalId eq "ext-2"')}`)).Resources.map((g: any) => g.id)).toEqual([ids[2]]);
    expect((await list(`filter=${encodeURIComponent('externalId eq "EXT-2"')}`)).totalResults).toBe(0);
    expect((await list(`filter=${encodeURIComponent('displayName sw "Team" and not (externalId eq "ext-0")')}`)).totalResults).toBe(4);
    expect((await list(`filter=${encodeURIComponent('displayName eq "Team 1" or externalId eq "ext-4"')}`)).Resources.map((g: any) => g.id)).toEqual([ids[1], ids[4]]);
    expect((await list(`filter=${encodeURIComponent(`id eq "${ids[0]}"`)}`)).totalResults).toBe(1);
    await scimError(await scim(t, `/Groups?filter=${encodeURIComponent('colour eq "red"')}`), 400, "invalidFilter");
    await scimError(await scim(t, `/Groups?filter=${encodeURIComponent('displayName eq')}`), 400, "invalidFilter");
  });

  it("pages with startIndex/count in a stable order, integers throughout; sortBy displayName descending", async () => {
    const p1 = await list("startIndex=1&count=2");
    const p2 = await list("startIndex=3&count=2");
    const p3 = await list("startIndex=5&count=2");
    expect(p1).toMatchObject({ totalResults: 5, itemsPerPage: 2, startIndex: 1 });
    expect(p3).toMatchObject({ totalResults: 5, itemsPerPage: 1, startIndex: 5 });
    expect([...p1.Resources, ...p2.Resources, ...p3.Resources].map((g: any) => g.id)).toEqual(ids);
    expect((await list("count=0")).Resources).toEqual([]);
    const desc = await list("sortBy=displayName&sortOrder=descending");
    expect(desc.Resources.map((g: any) => g.displayName)).toEqual(["Team 4", "Team 3", "Team 2", "Team 1", "Team 0"]);
  });

  it("attributes and excludedAttributes shape lists and single reads; members come back for a whole page", async () => {
    const withMembers = await list("count=5");
    for (const g of withMembers.Resources) expect(g.members).toHaveLength(1);
    const onlyName = await list("attributes=displayName");
    expect(Object.keys(onlyName.Resources[0]).sort()).toEqual(["displayName", "id", "schemas"]);
    const noMembers = await list("excludedAttributes=members");
    expect(noMembers.Resources[0]).not.toHaveProperty("members");
    expect(noMembers.Resources[0]).toHaveProperty("meta");
    const one = await scimBody(await scim(t, `/Groups/${ids[0]}?attributes=members.value`));
    expect(one.members).toEqual([{ value: expect.any(String) }]);
    const search = await scimBody(
      await scim(t, "/Groups/.search", { method: "POST", body: { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter: 'displayName eq "Team 0"', excludedAttributes: ["members"] } }),
    );
    expect(search.Resources.map((g: any) => g.id)).toEqual([ids[0]]);
    expect(search.Resources[0]).not.toHaveProperty("members");
  });

  it("keeps tenants apart: another tenant cannot see, filter, change or delete these groups", async () => {
    const other = await createTenant();
    expect((await scimBody(await scim(other, "/Groups"))).totalResults).toBe(0);
    expect((await scimBody(await scim(other, `/Groups?filter=${encodeURIComponent('displayName eq "Team 0"')}`))).totalResults).toBe(0);
    await scimError(await scim(other, `/Groups/${ids[0]}`), 404);
    await scimError(await scim(other, `/Groups/${ids[0]}`, { method: "PATCH", body: patch({ op: "remove", path: "members" }) }), 404);
    await scimError(await scim(other, `/Groups/${ids[0]}`, { method: "PUT", body: { displayName: "stolen" } }), 404);
    await scimError(await scim(other, `/Groups/${ids[0]}`, { method: "DELETE" }), 404);
    const mine = await scimBody(await scim(t, `/Groups/${ids[0]}`));
    expect(mine.displayName).toBe("Team 0");
    expect(mine.members).toHaveLength(1);
  });
});

describe("Group discovery", () => {
  it("ResourceTypes and Schemas describe Group accurately", async () => {
    const t = await createTenant();
    const types = await scimBody(await scim(t, "/ResourceTypes"));
    expect(types.Resources.map((r: any) => r.id)).toEqual(["User", "Group"]);
    expect(await scimBody(await scim(t, "/ResourceTypes/Group"))).toMatchObject({ id: "Group", endpoint: "/Groups", schema: GROUP });
    const schema = await scimBody(await scim(t, `/Schemas/${GROUP}`));
    expect(schema.attributes.map((a: any) => a.name)).toEqual(["displayName", "members"]);
    expect(schema.attributes[0]).toMatchObject({ type: "string", required: true, caseExact: false, uniqueness: "server", mutability: "readWrite" });
    const members = schema.attributes[1];
    expect(members).toMatchObject({ type: "complex", multiValued: true, mutability: "readWrite" });
    expect(members.subAttributes.map((a: any) => [a.name, a.mutability])).toEqual([
      ["value", "immutable"],
      ["$ref", "immutable"],
      ["display", "readOnly"],
      ["type", "immutable"],
    ]);
    expect(schema.meta.location).toMatch(new RegExp(`/Schemas/${GROUP}$`));
  });
});

describe("Groups in /Bulk", () => {
  it("creates users and a group whose members refer to them by bulkId, then patches and deletes it", async () => {
    const t = await createTenant();
    const BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
    const user = (n: number) => ({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: `bulk${n}.${Date.now()}@example.com`, name: { givenName: "B", familyName: `U${n}` } });
    const res = await scim(t, "/Bulk", {
      method: "POST",
      body: {
        schemas: [BULK],
        Operations: [
          { method: "POST", path: "/Users", bulkId: "u1", data: user(1) },
          { method: "POST", path: "/Users", bulkId: "u2", data: user(2) },
          { method: "POST", path: "/Groups", bulkId: "g1", data: { schemas: [GROUP], displayName: "Bulk team", members: [{ value: "bulkId:u1" }, { value: "bulkId:u2" }] } },
          { method: "PATCH", path: "/Groups/bulkId:g1", data: patch({ op: "remove", path: "members[value eq \"bulkId:u1\"]" }) },
          { method: "POST", path: "/Groups", bulkId: "g2", data: { schemas: [GROUP], displayName: "Bad", members: [{ value: "nobody" }] } },
        ],
      },
    });
    expect(res.status).toBe(200);
    const ops = (await scimBody(res)).Operations;
    expect(ops.map((o: any) => o.status)).toEqual(["201", "201", "201", "204", "400"]);
    expect(ops[4].response.scimType).toBe("invalidValue");
    const gid = ops[2].location.split("/").pop();
    const u2 = ops[1].location.split("/").pop();
    expect(await memberIds(t, gid)).toEqual([u2]);
    const del = await scim(t, "/Bulk", { method: "POST", body: { schemas: [BULK], Operations: [{ method: "DELETE", path: `/Groups/${gid}` }] } });
    expect((await scimBody(del)).Operations[0].status).toBe("204");
    await scimError(await scim(t, `/Groups/${gid}`), 404);
  });
});
