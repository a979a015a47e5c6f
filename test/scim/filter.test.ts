/** The filter module: RFC 7644 grammar via scim2-parse-filter, compiled to parameterised SQL on indexes. */
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { users } from "../../src/db/schema";
import { compileFilter, FilterCompiler } from "../../src/filter/compile";
import { parseScimFilter } from "../../src/filter/parse";
import { ApiError } from "../../src/http/errors";
import { loadAttributeSet } from "../../src/users/attributes";
import { userFilterMap } from "../../src/scim/filter-maps";
import { createTenant, type TestTenant } from "../helpers";
import { ENTERPRISE, createScimUser, scim, scimBody, scimError } from "./helpers";

const RFC_EXAMPLES = [
  'userName eq "bjensen"',
  `name.familyName co "O'Malley"`,
  'userName sw "J"',
  'urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"',
  "title pr",
  'meta.lastModified gt "2011-05-13T04:42:34Z"',
  'meta.lastModified ge "2011-05-13T04:42:34Z"',
  'meta.lastModified lt "2011-05-13T04:42:34Z"',
  'meta.lastModified le "2011-05-13T04:42:34Z"',
  'title pr and userType eq "Employee"',
  'title pr or userType eq "Intern"',
  'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
  'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
  'userType eq "Employee" and (emails.type eq "work")',
  'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
  'emails[type eq "work" and value co "@example.com"] or phoneNumbers[type eq "work" and value co "555"]',
];

async function compiled(t: TestTenant, filter: string) {
  const db = createDb(env.DB);
  const attrs = await loadAttributeSet(db, t.id);
  const cond = compileFilter(parseScimFilter(filter), userFilterMap(attrs));
  // Wrapped: a Drizzle query is thenable, and awaiting it would run it.
  return { query: db.select({ id: users.id }).from(users).where(and(eq(users.tenantId, t.id), cond)) };
}

async function plan(t: TestTenant, filter: string): Promise<string> {
  const q = (await compiled(t, filter)).query.toSQL();
  const rows = await env.DB.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).bind(...q.params).all<{ detail: string }>();
  return rows.results.map((r) => r.detail).join(" | ");
}

function filterError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).scimType).toBe("invalidFilter");
    return err as ApiError;
  }
  throw new Error("expected an invalidFilter error");
}

describe("parsing", () => {
  it("parses every RFC 7644 Figure 2 example that applies to Users", () => {
    for (const f of RFC_EXAMPLES) expect(() => parseScimFilter(f), f).not.toThrow();
  });

  it("keeps Entra's valuePath.subAttr form bound to one element", () => {
    expect(parseScimFilter('emails[type eq "work"].value eq "x@y.z"')).toEqual({
      op: "[]",
      attrPath: "emails",
      valFilter: { op: "and", filters: [{ op: "eq", attrPath: "type", compValue: "work" }, { op: "eq", attrPath: "value", compValue: "x@y.z" }] },
    });
  });

  it("accepts mixed-case operators and bare values", () => {
    expect(parseScimFilter("userName Eq \"a\" AND externalId eq jyoung")).toEqual({
      op: "and",
      filters: [
        { op: "eq", attrPath: "userName", compValue: "a" },
        { op: "eq", attrPath: "externalId", compValue: "jyoung" },
      ],
    });
  });

  it("rejects malformed filters, over-long and over-deep ones with invalidFilter", () => {
    for (const bad of ['userName eq', 'userName regex "a"', '(userName eq "a"', 'userName eq "a" extra', "", 'emails[type eq "work"', "userName eq {}"]) {
      filterError(() => parseScimFilter(bad));
    }
    expect(filterError(() => parseScimFilter(`userName eq "${"a".repeat(1000)}"`)).message).toContain("limit is 1000");
    const deep = `${"not (".repeat(14)}title pr${")".repeat(14)}`;
    expect(filterError(() => parseScimFilter(deep)).message).toContain("levels deep");
  });
});

describe("compiling and running", () => {
  let t: TestTenant;
  let other: TestTenant;
  let bjensen: Record<string, any>;
  let jsmith: Record<string, any>;

  beforeAll(async () => {
    t = await createTenant();
    other = await createTenant();
    bjensen = await createScimUser(t, {
      userName: "bjensen@example.com",
      externalId: "bjensen",
      name: { givenName: "Barbara", familyName: "O'Malley" },
      displayName: "Babs Jensen",
      title: "Tour Guide",
      userType: "Employee",
      emails: [{ value: "bjensen@example.com", type: "work", primary: true }],
      [ENTERPRISE]: { employeeNumber: "701984", department: "Tour Operations" },
    });
    jsmith = await createScimUser(t, {
      userName: "JSmith",
      externalId: "jsmith",
      name: { givenName: "John", familyName: "Smith" },
      userType: "Intern",
      emails: [{ value: "john@example.org", type: "work" }],
      active: false,
    });
    // Same userName in another tenant: never visible here.
    await createScimUser(other, { userName: "bjensen@example.com", emails: [{ value: "bjensen@example.com" }] });
  });

  async function ids(filter: string): Promise<string[]> {
    const body = await scimBody(await scim(t, `/Users?filter=${encodeURIComponent(filter)}`));
    return body.Resources.map((r: any) => r.id).sort();
  }

  it("answers the RFC examples over HTTP", async () => {
    const both = [bjensen.id, jsmith.id].sort();
    const cases: [string, string[]][] = [
      ['userName eq "BJENSEN@example.com"', [bjensen.id]],
      [`name.familyName co "O'Malley"`, [bjensen.id]],
      ['userName sw "J"', [jsmith.id]],
      ['urn:ietf:params:scim:schemas:core:2.0:User:userName sw "j"', [jsmith.id]],
      ["title pr", [bjensen.id]],
      ['meta.lastModified gt "2011-05-13T04:42:34Z"', both],
      ['meta.created lt "2011-05-13T04:42:34Z"', []],
      ['title pr and userType eq "Employee"', [bjensen.id]],
      ['title pr or userType eq "Intern"', both],
      ['userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")', [bjensen.id]],
      ['userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")', []],
      ['not (title pr)', [jsmith.id]],
      ['not (title eq "Tour Guide")', [jsmith.id]],
      ['userType eq "Employee" and (emails.type eq "work")', [bjensen.id]],
      ['userType eq "Employee" and emails[type eq "work" and value co "@example.com"]', [bjensen.id]],
      ['emails[type eq "work" and value co "@example.org"] or phoneNumbers[type eq "work" and value co "555"]', [jsmith.id]],
      ['emails[type eq "home"]', []],
      ['emails ew ".ORG"', [jsmith.id]],
      ["active eq false", [jsmith.id]],
      ['active eq "True"', [bjensen.id]],
      ['externalId eq "BJENSEN"', []], // externalId is caseExact
      ['externalId eq "bjensen"', [bjensen.id]],
      ['displayName eq "babs jensen"', [bjensen.id]],
      ['displayName eq "John Smith"', [jsmith.id]], // rendered from the names
      [`${ENTERPRISE}:employeeNumber eq "701984"`, [bjensen.id]],
      [`${ENTERPRISE}:department sw "tour"`, [bjensen.id]],
      [`id eq "${jsmith.id}"`, [jsmith.id]],
      ["USERNAME PR", both],
      ['name.givenName ge "C"', [jsmith.id]],
    ];
    for (const [f, expected] of cases) expect(await ids(f), f).toEqual(expected);
  });

  it("binds every literal as a parameter", async () => {
    const q = (await compiled(t, `userName eq "x'; DROP TABLE users; --" or name.familyName co "O'Malley"`)).query.toSQL();
    expect(q.sql).not.toContain("DROP");
    expect(q.sql).not.toContain("O'Malley");
    expect(q.params).toContain("x'; drop table users; --");
  });

  it("uses the indexes for userName, externalId, emails and displayName", async () => {
    expect(await plan(t, 'userName eq "a@b.c"')).toContain("users_tenant_user_name_uq");
    expect(await plan(t, 'externalId eq "x"')).toContain("users_tenant_external_id_uq");
    expect(await plan(t, 'emails[type eq "work"].value eq "a@b.c"')).toContain("users_tenant_email_uq");
    expect(await plan(t, 'emails.value eq "a@b.c"')).toContain("users_tenant_email_uq");
    expect(await plan(t, 'displayName eq "Babs Jensen"')).toContain("users_tenant_display_name_eff_idx");
    expect(await plan(t, 'userName sw "bj"')).toContain("users_tenant_user_name_uq");
  });

  it("rejects unknown attributes, wrong types and operators with 400 invalidFilter", async () => {
    const cases = [
      'nickName eq "x"',
      'name eq "x"',
      'active gt true',
      'meta.created gt "yesterday"',
      'emails[value eq "x"].value[type eq "y"]',
      'userName eq 5',
      'emails[type eq "work" and emails[type eq "home"]]',
      "name.middle eq \"x\"",
    ];
    for (const f of cases) await scimError(await scim(t, `/Users?filter=${encodeURIComponent(f)}`), 400, "invalidFilter");
  });

  it("caps bound parameters below D1's 100", async () => {
    const db = createDb(env.DB);
    const attrs = await loadAttributeSet(db, t.id);
    // sw binds two values (a range), so 31 of them pass 60 within the 1,000-character limit.
    const many = Array.from({ length: 31 }, (_, i) => `title sw "${i}"`).join(" or ");
    expect(() => new FilterCompiler(userFilterMap(attrs)).compile(parseScimFilter(many))).toThrow(/more than 60 values/);
  });

  it("takes the attribute map as a parameter (REST names for issue 7)", async () => {
    const map = { schemas: [{ urn: "urn:rest", attributes: { email: { kind: "scalar" as const, type: "string" as const, expr: users.email, lowerExpr: users.emailLower, caseExact: false } } }] };
    const db = createDb(env.DB);
    const rows = await db.select({ id: users.id }).from(users).where(and(eq(users.tenantId, t.id), compileFilter(parseScimFilter('EMAIL eq "John@Example.org"'), map))).all();
    expect(rows.map((r) => r.id)).toEqual([jsmith.id]);
  });
});
