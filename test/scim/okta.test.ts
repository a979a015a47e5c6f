/**
 * Okta, replayed request by request from shared/reference/scim-clients.md §2: the SCIM 2.0 SPEC
 * test (O4 steps 1-12), the OIN PATCH deactivation and the AIW custom-app full-PUT flow (O6).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { call, createTenant, type TestTenant } from "../helpers";
import { CORE, ENTERPRISE, LIST, PATCH_OP, createScimUser, scim, scimBody, scimError } from "./helpers";

const oktaHeaders = {
  Accept: "application/scim+json",
  "Accept-Charset": "utf-8",
  "User-Agent": "OKTA SCIM Integration",
};

describe("Okta SCIM 2.0 SPEC test (O4)", () => {
  let t: TestTenant;
  let isvUserId: string;
  let idUserOne: string;
  const given = "Runscope123";
  const family = "Abcdefghi456";
  const email = `${given}${family}@atko.com`.toLowerCase();

  beforeAll(async () => {
    t = await createTenant();
    // Precondition: at least one user with a name, email and active.
    await createScimUser(t);
  });

  it("1: GET /Users?count=1&startIndex=1 lists users with integer paging fields", async () => {
    const res = await scim(t, "/Users?count=1&startIndex=1", { headers: oktaHeaders });
    expect(res.status).toBe(200);
    const body = await scimBody(res);
    expect(body.schemas).toContain(LIST);
    expect(body.Resources.length).toBe(1);
    for (const k of ["itemsPerPage", "startIndex", "totalResults"]) expect(typeof body[k]).toBe("number");
    const u = body.Resources[0];
    expect(u.id).toBeTruthy();
    expect(u.name.familyName).toBeTruthy();
    expect(u.name.givenName).toBeTruthy();
    expect(u.userName).toBeTruthy();
    expect(u.active).toBe(true);
    expect(u.emails[0].value).toBeTruthy();
    isvUserId = u.id;
  });

  it("2: GET /Users/{id}", async () => {
    const res = await scim(t, `/Users/${isvUserId}`, { headers: oktaHeaders });
    expect(res.status).toBe(200);
    const u = await scimBody(res);
    expect(u.id).toBe(isvUserId);
    expect(u.name.familyName).toBeTruthy();
    expect(u.emails[0].value).toBeTruthy();
  });

  it("3: filter by an unknown userName gives 200 and totalResults 0", async () => {
    const res = await scim(t, `/Users?filter=${encodeURIComponent('userName eq "abcdefgh@atko.com"')}`, { headers: oktaHeaders });
    expect(res.status).toBe(200);
    const body = await scimBody(res);
    expect(body.schemas).toContain(LIST);
    expect(body.totalResults).toBe(0);
    expect(body.Resources).toEqual([]);
  });

  it("4: unknown id gives 404 with an Error body", async () => {
    await scimError(await scim(t, "/Users/010101001010101011001010101011", { headers: oktaHeaders }), 404);
  });

  it("5: the random user does not exist yet (the existence check with startIndex and count)", async () => {
    const res = await scim(t, `/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}&startIndex=1&count=100`, { headers: oktaHeaders });
    const body = await scimBody(res);
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });
  });

  it("6: creates the user with Content-Type application/json", async () => {
    const res = await scim(t, "/Users", {
      method: "POST",
      headers: { ...oktaHeaders, "Content-Type": "application/json", Accept: "application/scim+json; charset=utf-8" },
      body: {
        schemas: [CORE],
        userName: email,
        name: { givenName: given, familyName: family },
        emails: [{ primary: true, value: email, type: "work" }],
        displayName: `${given} ${family}`,
        active: true,
      },
    });
    expect(res.status).toBe(201);
    const u = await scimBody(res);
    expect(u.active).toBe(true);
    expect(u.id).toBeTruthy();
    expect(u.userName).toBe(email);
    expect(u.name).toMatchObject({ givenName: given, familyName: family });
    expect(u.schemas).toContain(CORE);
    expect(res.headers.get("Location")).toBe(`https://${t.host}/scim/v2/Users/${u.id}`);
    expect(u.meta.location).toBe(res.headers.get("Location"));
    idUserOne = u.id;
  });

  it("7: the created user reads back", async () => {
    const u = await scimBody(await scim(t, `/Users/${idUserOne}`, { headers: oktaHeaders }));
    expect(u).toMatchObject({ id: idUserOne, userName: email, name: { givenName: given, familyName: family } });
  });

  it("8: recreating the same user is 409 uniqueness", async () => {
    const res = await scim(t, "/Users", {
      method: "POST",
      headers: { ...oktaHeaders, "Content-Type": "application/json" },
      body: { schemas: [CORE], userName: email, name: { givenName: given, familyName: family }, emails: [{ primary: true, value: email, type: "work" }], active: true },
    });
    await scimError(res, 409, "uniqueness");
  });

  it("9: userName matching ignores case", async () => {
    const res = await scim(t, `/Users?filter=${encodeURIComponent(`userName eq "${email.toUpperCase()}"`)}`, { headers: oktaHeaders });
    expect(res.status).toBe(200);
    const body = await scimBody(res);
    expect(body.totalResults).toBe(1);
    expect(body.Resources[0].id).toBe(idUserOne);
  });

  it("11: a non-token Authorization header gives 401 with status \"401\"", async () => {
    const res = await call(t.host, `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}`, {
      headers: { ...oktaHeaders, Authorization: "non-token" },
    });
    await scimError(res, 401);
  });

  it("12: another unknown id gives 404 with status \"404\"", async () => {
    await scimError(await scim(t, "/Users/00919288221112222", { headers: oktaHeaders }), 404);
  });
});

describe("Okta OIN: PATCH deactivation", () => {
  it("pathless replace {active:false} answers 200 with the user", async () => {
    const t = await createTenant();
    const u = await createScimUser(t, { password: "1mz050nq-Okta-Random", groups: [], locale: "en-US" });
    expect(u.password).toBeUndefined();
    const res = await scim(t, `/Users/${u.id}`, {
      method: "PATCH",
      body: { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] },
    });
    expect(res.status).toBe(200);
    const after = await scimBody(res);
    expect(after.active).toBe(false);
    // Inactive users stay retrievable, by id and by filter.
    expect((await scimBody(await scim(t, `/Users/${u.id}`))).active).toBe(false);
    const found = await scimBody(await scim(t, `/Users?filter=${encodeURIComponent(`userName eq "${u.userName}"`)}`));
    expect(found.totalResults).toBe(1);
  });
});

describe("Okta AIW custom app: assign, profile change, unassign and reassign by full PUT (O6)", () => {
  it("replays the GET/PUT read-modify-write sequence", async () => {
    const t = await createTenant();
    const userName = `aiw.${Date.now()}@example.com`;
    // Assign: search, then create with both schemas, groups: [] and a random password.
    const search = await scimBody(await scim(t, `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`));
    expect(search.totalResults).toBe(0);
    const created = await scim(t, "/Users", {
      method: "POST",
      body: {
        schemas: [CORE, ENTERPRISE],
        userName,
        name: { givenName: "Aiw", familyName: "User" },
        emails: [{ primary: true, value: userName, type: "work" }],
        displayName: "Aiw User",
        locale: "en-US",
        externalId: "00ujl29u0le5T6Aj10h7",
        groups: [],
        password: "1mz050nq-Okta-Random",
        active: true,
        [ENTERPRISE]: { department: "Sales", employeeNumber: "E-1" },
      },
    });
    expect(created.status).toBe(201);
    const user = await scimBody(created);
    expect(user.password).toBeUndefined();
    expect(user[ENTERPRISE]).toMatchObject({ department: "Sales", employeeNumber: "E-1" });

    // Profile change: GET then a full PUT of what GET returned (id, meta and all), with one change.
    const got = await scimBody(await scim(t, `/Users/${user.id}`));
    const put = await scim(t, `/Users/${user.id}`, { method: "PUT", body: { ...got, name: { ...got.name, givenName: "Changed" }, password: "x-Okta-Random-Pw" } });
    expect(put.status).toBe(200);
    expect((await scimBody(put)).name.givenName).toBe("Changed");

    // Unassign: GET then PUT active:false.
    const got2 = await scimBody(await scim(t, `/Users/${user.id}`));
    const off = await scimBody(await scim(t, `/Users/${user.id}`, { method: "PUT", body: { ...got2, active: false } }));
    expect(off.active).toBe(false);
    expect(off[ENTERPRISE].department).toBe("Sales");

    // Reassign: the filter finds the inactive user, then GET and PUT active:true.
    const again = await scimBody(await scim(t, `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`));
    expect(again.totalResults).toBe(1);
    expect(again.Resources[0].active).toBe(false);
    const got3 = await scimBody(await scim(t, `/Users/${user.id}`));
    const on = await scimBody(await scim(t, `/Users/${user.id}`, { method: "PUT", body: { ...got3, active: true } }));
    expect(on.active).toBe(true);
    expect(on.id).toBe(user.id);

    // Import: pages of 100 with integer totals.
    const page = await scimBody(await scim(t, "/Users?startIndex=1&count=100"));
    expect(page.totalResults).toBe(1);
  });
});
