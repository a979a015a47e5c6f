/** One filter language on REST: SCIM syntax over REST names, custom attributes, sort, search. */
import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, newUser, problem, type TestTenant } from "./helpers";

interface Page {
  data: Array<Record<string, any>>;
  pagination: { nextCursor: string | null };
}

let t: TestTenant;
beforeAll(async () => {
  t = await createTenant();
  await t.call("/v1/available-attributes", { body: { key: "costCenter2", type: "string" } });
  await t.call("/v1/available-attributes", { body: { key: "fte", type: "number" } });
  await t.call("/v1/available-attributes", { body: { key: "remote", type: "boolean" } });
  await t.call("/v1/available-attributes", { body: { key: "level", type: "enum", enumValues: ["junior", "senior"] } });
  await t.call("/v1/roles", { body: { name: "Admin" } });
  const people = [
    { firstName: "Zelda", lastName: "Adams", department: "Sales", attributes: { costCenter2: "CC-1", fte: 1, remote: true, level: "senior" }, role: "Admin" },
    { firstName: "zoe", lastName: "brown", department: "Sales", attributes: { costCenter2: "CC-2", fte: 0.5, remote: false, level: "junior" } },
    { firstName: "Ann", lastName: "Clark", department: "Legal", attributes: { costCenter2: "XX-9", fte: 0.8 } },
    { firstName: "Émile", lastName: "Dubois", department: "R&D", title: "Engineer" },
    { firstName: "Bob", lastName: "Evans", department: "Sales", active: false },
  ];
  for (const [i, p] of people.entries()) {
    const res = await t.call("/v1/users", { body: newUser({ ...p, email: `${p.firstName.toLowerCase()}.${i}@filter.example`, externalId: `F-${i}` }) });
    expect(res.status, await res.clone().text()).toBe(201);
  }
});

async function names(query: string): Promise<string[]> {
  const res = await t.call(`/v1/users?${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as Page).data.map((u) => u.firstName as string);
}
const f = (expr: string) => `filter=${encodeURIComponent(expr)}`;

describe("filter over REST attributes", () => {
  it("compares built-ins case-insensitively and combines with and/or/not", async () => {
    expect(await names(f('department eq "sales" and active eq true'))).toEqual(["Zelda", "zoe"]);
    expect(await names(f('firstName sw "Z"'))).toEqual(["Zelda", "zoe"]);
    expect(await names(f('email co "@filter.example" and not (department eq "Sales")'))).toEqual(["Ann", "Émile"]);
    expect(await names(f('lastName eq "Adams" or title pr'))).toEqual(["Zelda", "Émile"]);
    expect(await names(f("active eq false"))).toEqual(["Bob"]);
    expect(await names(f('externalId eq "F-2"'))).toEqual(["Ann"]);
    expect(await names(f('externalId eq "f-2"'))).toEqual([]);
  });

  it("filters on custom attributes, bare or under attributes., with their types", async () => {
    expect(await names(f('attributes.costCenter2 sw "CC-"'))).toEqual(["Zelda", "zoe"]);
    expect(await names(f("fte gt 0.6"))).toEqual(["Zelda", "Ann"]);
    expect(await names(f("remote eq true"))).toEqual(["Zelda"]);
    expect(await names(f('level eq "senior"'))).toEqual(["Zelda"]);
    expect(await names(f('level eq "Senior"'))).toEqual([]);
    expect(await names(f("fte pr and not (remote pr)"))).toEqual(["Ann"]);
  });

  it("filters on role names and on timestamps", async () => {
    expect(await names(f('role eq "Admin"'))).toEqual(["Zelda"]);
    expect(await names(f(`createdAt gt "2000-01-01T00:00:00Z" and department eq "R&D"`))).toEqual(["Émile"]);
    expect(await names(f(`updatedAt lt "2000-01-01T00:00:00Z"`))).toEqual([]);
  });

  it("combines with the other list parameters", async () => {
    expect(await names(`${f('department eq "Sales"')}&active=false`)).toEqual(["Bob"]);
    expect(await names(`${f('department eq "Sales"')}&q=zo`)).toEqual(["zoe"]);
  });

  it("answers invalid filters with 400 invalid_filter pointing at the position", async () => {
    const cases: Array<[string, RegExp, number | undefined]> = [
      ['department eq "Sales" and', /at position 25 \(at the end\)/, 25],
      ['department xx "Sales"', /at position 11 \(near 'xx/, 11],
      ['(department eq "Sales"', /at position 22 \(at the end\)/, 22],
      ['title eq "a" and ) or x', /at position 17 \(near '\) or x'\)/, 17],
      ['department eq "Sales" x', /at position 22/, 22],
    ];
    for (const [expr, detail, position] of cases) {
      const res = await t.call(`/v1/users?${f(expr)}`);
      expect(res.status, expr).toBe(400);
      const body = await problem(res);
      expect(body.code, expr).toBe("invalid_filter");
      expect(body.detail, expr).toMatch(detail);
      expect(typeof body.position, expr).toBe("number");
      if (position !== undefined) expect(body.position).toBe(position);
      expect(body.errors[0].path).toBe("filter");
    }
    const unknown = await problem(await t.call(`/v1/users?${f('colour eq "red"')}`));
    expect(unknown.code).toBe("invalid_filter");
    expect(unknown.detail).toContain("colour");
    expect((await t.call(`/v1/users?${f(`title eq "${"x".repeat(1000)}"`)}`)).status).toBe(400);
  });
});

describe("sort and search", () => {
  it("sorts by a field either way and pages with a cursor bound to that sort", async () => {
    const asc: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.call(`/v1/users?sort=lastName&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      const page = (await res.json()) as Page;
      asc.push(...page.data.map((u) => u.lastName as string));
      cursor = page.pagination.nextCursor;
    } while (cursor);
    expect(asc).toEqual(["Adams", "brown", "Clark", "Dubois", "Evans"]);
    const desc = ((await (await t.call("/v1/users?sort=-lastName&limit=2")).json()) as Page);
    expect(desc.data.map((u) => u.lastName)).toEqual(["Evans", "Dubois"]);
    const mixed = await t.call(`/v1/users?sort=lastName&limit=2&cursor=${desc.pagination.nextCursor}`);
    expect((await problem(mixed)).code).toBe("invalid_cursor");
    const bad = await t.call("/v1/users?sort=title");
    expect(bad.status).toBe(400);
    expect((await problem(bad)).errors[0].path).toBe("sort");
  });

  it("POST /v1/users/search takes the same parameters in a body, with room for long filters", async () => {
    const long = Array.from({ length: 50 }, (_, i) => `externalId eq "F-${i % 5}"`).join(" or ");
    expect(long.length).toBeGreaterThan(1000);
    const res = await t.call("/v1/users/search", { body: { filter: long, sort: "-createdAt", limit: 3 } });
    expect(res.status, await res.clone().text()).toBe(200);
    const page = (await res.json()) as Page;
    expect(page.data.map((u) => u.externalId)).toEqual(["F-4", "F-3", "F-2"]);
    const next = (await (await t.call("/v1/users/search", { body: { filter: long, sort: "-createdAt", limit: 3, cursor: page.pagination.nextCursor } })).json()) as Page;
    expect(next.data.map((u) => u.externalId)).toEqual(["F-1", "F-0"]);
    expect((await t.call(`/v1/users?${f(long)}`)).status).toBe(400);
  });

  it("search is a read: users:read suffices, and its errors name fields", async () => {
    const reader = ((await (await t.call("/v1/api-tokens", { body: { name: "r", scopes: ["users:read"] } })).json()) as { token: string }).token;
    expect((await t.call("/v1/users/search", { token: reader, body: { filter: 'department eq "Legal"' } })).status).toBe(200);
    const bad = await t.call("/v1/users/search", { body: { filter: 5, limit: 0 } });
    expect(bad.status).toBe(400);
    expect((await problem(bad)).errors.map((e: { path: string }) => e.path).sort()).toEqual(["filter", "limit"]);
  });

  it("another tenant's users never match", async () => {
    const other = await createTenant();
    const page = (await (await other.call(`/v1/users?${f('email co "@filter.example"')}`)).json()) as Page;
    expect(page.data).toEqual([]);
  });
});
