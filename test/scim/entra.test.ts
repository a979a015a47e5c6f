/**
 * Microsoft Entra ID, replayed request by request from shared/reference/scim-clients.md §1: the
 * documented user sequences U1-U9 (E1) in the default shapes and in the aadOptscim062020 shapes,
 * plus the observed quirks (string booleans, pathless dotted/URN keys, manager shapes, nulls).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, type TestTenant } from "../helpers";
import { CORE, ENTERPRISE, LIST, createScimUser, patch, scim, scimBody, scimError } from "./helpers";

const q = (filter: string) => `/Users?filter=${encodeURIComponent(filter)}`;

describe("Entra user sequence (E1 U1-U8)", () => {
  let t: TestTenant;
  let id: string;
  const userName = `Test_User_00aa00aa-bb11-cc22-dd33-${Date.now()}`;
  const email = `Test_User_11bb11bb-${Date.now()}@testuser.com`;

  beforeAll(async () => {
    t = await createTenant();
  });

  it("Test Connection: a random GUID as the matching property gives 200 and an empty ListResponse", async () => {
    const res = await scim(t, q(`userName eq "${crypto.randomUUID()}"`));
    expect(res.status).toBe(200);
    expect(await scimBody(res)).toEqual({ schemas: [LIST], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });
  });

  it("U4 then U1: the filter query finds nothing, then POST creates (meta and empty roles ignored)", async () => {
    expect((await scimBody(await scim(t, q(`userName eq "${userName}"`)))).totalResults).toBe(0);
    const res = await scim(t, "/Users", {
      method: "POST",
      body: {
        schemas: [CORE, ENTERPRISE],
        externalId: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        userName,
        active: true,
        emails: [{ primary: true, type: "work", value: email }],
        meta: { resourceType: "User" },
        name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
        roles: [],
      },
    });
    expect(res.status).toBe(201);
    const u = await scimBody(res);
    id = u.id;
    expect(u).toMatchObject({
      externalId: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
      userName,
      active: true,
      emails: [{ primary: true, type: "work", value: email }],
      name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
      meta: { resourceType: "User" },
    });
    expect(u.meta.created).toBeTruthy();
    expect(u.meta.lastModified).toBeTruthy();
    // userName and email are different things here: both are kept.
    expect(u.userName).not.toBe(u.emails[0].value);
  });

  it("U2: GET by id, and 404 for an unknown id", async () => {
    expect((await scimBody(await scim(t, `/Users/${id}`))).userName).toBe(userName);
    await scimError(await scim(t, "/Users/5171a35d82074e068ce2"), 404);
  });

  it("U3: query by userName and by externalId, and the non-RFC emails[type eq \"work\"].value eq form", async () => {
    for (const f of [`userName eq "${userName}"`, `externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`, `emails[type eq "work"].value eq "${email.toUpperCase()}"`]) {
      const body = await scimBody(await scim(t, q(f)));
      expect(body.totalResults, f).toBe(1);
      expect(body.Resources[0].id).toBe(id);
      expect(body.startIndex).toBe(1);
    }
    // Same element: there is no "home" email, so this must not match.
    expect((await scimBody(await scim(t, q(`emails[type eq "home"].value eq "${email}"`)))).totalResults).toBe(0);
  });

  it("U5: Replace emails[type eq \"work\"].value and name.familyName; name.formatted follows", async () => {
    const res = await scim(t, `/Users/${id}`, {
      method: "PATCH",
      body: patch(
        { op: "Replace", path: 'emails[type eq "work"].value', value: "updatedEmail@microsoft.com" },
        { op: "Replace", path: "name.familyName", value: "updatedFamilyName" },
      ),
    });
    expect(res.status).toBe(200);
    const u = await scimBody(res);
    expect(u.emails).toEqual([{ value: "updatedEmail@microsoft.com", type: "work", primary: true }]);
    expect(u.name).toEqual({ formatted: "givenName updatedFamilyName", familyName: "updatedFamilyName", givenName: "givenName" });
    expect(u.userName).toBe(userName);
  });

  it("U6: Replace userName", async () => {
    const newName = `5b50642d-${Date.now()}@testuser.com`;
    const u = await scimBody(await scim(t, `/Users/${id}`, { method: "PATCH", body: patch({ op: "Replace", path: "userName", value: newName }) }));
    expect(u.userName).toBe(newName);
    expect((await scimBody(await scim(t, q(`userName eq "${newName}"`)))).totalResults).toBe(1);
  });

  it("U7: disable with the default string \"False\" and with the aadOptscim062020 boolean", async () => {
    let u = await scimBody(await scim(t, `/Users/${id}`, { method: "PATCH", body: patch({ op: "Replace", path: "active", value: "False" }) }));
    expect(u.active).toBe(false);
    u = await scimBody(await scim(t, `/Users/${id}`, { method: "PATCH", body: patch({ op: "replace", path: "active", value: true }) }));
    expect(u.active).toBe(true);
    u = await scimBody(await scim(t, `/Users/${id}`, { method: "PATCH", body: patch({ op: "replace", path: "active", value: false }) }));
    expect(u.active).toBe(false);
    // Inactive users are still returned, by id and by query.
    expect((await scimBody(await scim(t, q(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`)))).Resources[0].active).toBe(false);
  });

  it("U8: DELETE answers 204, then the user is 404 everywhere and gone from lists", async () => {
    const res = await scim(t, `/Users/${id}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    await scimError(await scim(t, `/Users/${id}`), 404);
    await scimError(await scim(t, `/Users/${id}`, { method: "PATCH", body: patch({ op: "replace", path: "active", value: true }) }), 404);
    await scimError(await scim(t, `/Users/${id}`, { method: "DELETE" }), 404);
    expect((await scimBody(await scim(t, q(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`)))).totalResults).toBe(0);
    // The REST API agrees that the person's data is gone.
    const rest = await t.call(`/v1/users/${id}`);
    expect(rest.status).toBe(410);
  });
});

describe("Entra PATCH shapes: default vs aadOptscim062020", () => {
  let t: TestTenant;
  beforeAll(async () => {
    t = await createTenant();
  });

  it("default: one Replace per path, including the enterprise URN path", async () => {
    const u = await createScimUser(t);
    const res = await scim(t, `/Users/${u.id}`, {
      method: "PATCH",
      body: patch(
        { op: "Add", path: "title", value: "Babs" },
        { op: "Replace", path: 'emails[type eq "work"].value', value: `w.${u.userName}` },
        { op: "Replace", path: "name.givenName", value: "Kkom" },
        { op: "Replace", path: "externalId", value: `new-${u.externalId}` },
        { op: "Replace", path: `${ENTERPRISE}:employeeNumber`, value: "Aklq" },
      ),
    });
    expect(res.status).toBe(200);
    const after = await scimBody(res);
    expect(after).toMatchObject({ title: "Babs", name: { givenName: "Kkom" }, externalId: `new-${u.externalId}`, [ENTERPRISE]: { employeeNumber: "Aklq" } });
    expect(after.emails[0].value).toBe(`w.${u.userName}`);
  });

  it("aadOptscim062020: a filtered replace plus one pathless replace with dotted and URN keys", async () => {
    const u = await createScimUser(t);
    const res = await scim(t, `/Users/${u.id}`, {
      method: "PATCH",
      body: patch(
        { op: "replace", path: 'emails[type eq "work"].value', value: `x.${u.userName}` },
        {
          op: "replace",
          value: { displayName: "Bjfe", "name.givenName": "Kkom", "name.familyName": "Unua", [`${ENTERPRISE}:employeeNumber`]: "Aklq", active: "False" },
        },
      ),
    });
    expect(res.status).toBe(200);
    const after = await scimBody(res);
    expect(after).toMatchObject({ displayName: "Bjfe", name: { givenName: "Kkom", familyName: "Unua" }, active: false, [ENTERPRISE]: { employeeNumber: "Aklq" } });
    expect(after["name.givenName"]).toBeUndefined();
  });

  it("manager in all three shapes, then removed by Replace with an empty value", async () => {
    const boss = await createScimUser(t);
    const u = await createScimUser(t);
    // E1 Example 5: path "manager" with an array of {$ref, value}.
    let after = await scimBody(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "Add", path: "manager", value: [{ $ref: null, value: boss.id }] }) }));
    expect(after[ENTERPRISE].manager.value).toBe(boss.id);
    expect(after[ENTERPRISE].manager.$ref).toMatch(new RegExp(`/scim/v2/Users/${boss.id}$`));
    // SCIM-SDK #686: the URN path with a bare string.
    const boss2 = await createScimUser(t);
    after = await scimBody(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "add", path: `${ENTERPRISE}:manager`, value: boss2.id }) }));
    expect(after[ENTERPRISE].manager.value).toBe(boss2.id);
    // RFC: {value}.
    after = await scimBody(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: `${ENTERPRISE}:manager`, value: { value: boss.id } }) }));
    expect(after[ENTERPRISE].manager.value).toBe(boss.id);
    // The REST API sees the same manager.
    expect(((await (await t.call(`/v1/users/${u.id}`)).json()) as any).managerId).toBe(boss.id);
    // Remove: Replace with empty.
    after = await scimBody(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "Replace", path: `${ENTERPRISE}:manager`, value: "" }) }));
    expect(after[ENTERPRISE]?.manager).toBeUndefined();
    // An unknown manager is 400 invalidValue naming the manager attribute.
    const err = await scimError(
      await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: "manager", value: "no-such-user" }) }),
      400,
      "invalidValue",
    );
    expect(err.detail).toContain("manager");
  });

  it("roles (stringified JSON, E7) and other attributes the service does not keep are ignored, not errors", async () => {
    const u = await createScimUser(t);
    const res = await scim(t, `/Users/${u.id}`, {
      method: "PATCH",
      body: patch(
        { op: "Add", path: "roles", value: [{ value: '{"id":"06b07648","value":"25","displayName":"Role1234"}' }, { value: "x" }] },
        { op: "Replace", path: 'addresses[type eq "work"].locality', value: "Oslo" },
        { op: "Add", path: "nickName", value: "Babs" },
        { op: "Replace", path: "title", value: "Kept" },
      ),
    });
    expect(res.status).toBe(200);
    const after = await scimBody(res);
    expect(after.title).toBe("Kept");
    expect(after.roles).toBeUndefined();
    expect(after.addresses).toBeUndefined();
  });

  it("a path naming a whole extension sets and removes its attributes", async () => {
    const u = await createScimUser(t);
    let after = await scimBody(
      await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "add", path: ENTERPRISE, value: { costCenter: "CC-1", Division: "North" } }) }),
    );
    expect(after[ENTERPRISE]).toEqual({ costCenter: "CC-1", division: "North" });
    after = await scimBody(await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "remove", path: ENTERPRISE }) }));
    expect(after[ENTERPRISE]).toBeUndefined();
    expect(after.schemas).toEqual([CORE]);
  });

  it("empty Operations is a no-op answered with the user", async () => {
    const u = await createScimUser(t);
    const res = await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch() });
    expect(res.status).toBe(200);
    expect((await scimBody(res)).meta.version).toBe(u.meta.version);
  });

  it("a filtered path that matches nothing upserts (phoneNumbers, emails)", async () => {
    const u = await createScimUser(t);
    const after = await scimBody(
      await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "Replace", path: 'phoneNumbers[type eq "work"].value', value: "+1 555 0100" }) }),
    );
    expect(after.phoneNumbers).toEqual([{ value: "+1 555 0100", type: "work", primary: true }]);
    const primary = await scimBody(
      await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "Replace", path: 'emails[primary eq "True"].value', value: `p.${u.userName}` }) }),
    );
    expect(primary.emails[0].value).toBe(`p.${u.userName}`);
  });

  it("create with top-level nulls and a typo'd enterprise URN (E1 Example 2) treats nulls as absent", async () => {
    const res = await scim(t, "/Users", {
      method: "POST",
      body: {
        schemas: [CORE, "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
        externalId: `null-${Date.now()}`,
        userName: `null.${Date.now()}@example.com`,
        active: true,
        addresses: null,
        displayName: "Null Test",
        emails: [{ primary: true, type: "work", value: `null.${Date.now()}@example.com` }],
        name: { familyName: "Test", givenName: "Null", formatted: null },
        phoneNumbers: null,
        title: null,
        department: null,
        manager: null,
        roles: [{ primary: "False", type: "WindowsAzureActiveDirectoryRole", value: "Admin" }],
      },
    });
    expect(res.status).toBe(201);
    const u = await scimBody(res);
    expect(u.title).toBeUndefined();
    expect(u.phoneNumbers).toBeUndefined();
  });
});
