/**
 * Errors an integrator can act on: every error body carries the request id of its response, one
 * 400 lists every problem of a request (the schema's and the users core's), messages are in the
 * service's own words with an example of right, and every path uses one notation.
 */
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { createApp } from "../src/app";
import { manualClock } from "../src/core/context";
import { fieldPath } from "../src/http/errors";
import { issuesToFieldErrors } from "../src/http/validation";
import { memoryLimiter } from "../src/limits/memory";
import { createTenant, createUser, newUser, problem, type TestTenant } from "./helpers";
import { scim } from "./scim/helpers";

/** zod's own phrasing, which must never reach a client. */
const ZOD_WORDING = /invalid input|expected|received|too big|too small|invalid option|unrecognized key|invalid string|invalid email|invalid uuid|invalid iso/i;

let t: TestTenant;

beforeAll(async () => {
  t = await createTenant();
  const res = await t.call("/v1/available-attributes", { body: { key: "costCenter", type: "string", required: true, label: "Cost center" } });
  expect(res.status).toBe(201);
});

/** Asserts a problem body's requestId equals the response's X-Request-Id and returns the body. */
async function problemWithId(res: Response, status: number): Promise<Record<string, any>> {
  expect(res.status).toBe(status);
  const body = await problem(res);
  const header = res.headers.get("X-Request-Id");
  expect(header).toBeTruthy();
  expect(body.requestId).toBe(header);
  return body;
}

function expectNoZodWording(body: Record<string, any>): void {
  expect(body.detail).not.toMatch(ZOD_WORDING);
  for (const e of body.errors ?? []) expect(e.message, e.path).not.toMatch(ZOD_WORDING);
}

describe("requestId in every error body", () => {
  it("400, 401, 404, 405, 409, 412, 413 and 415 carry the X-Request-Id of their response", async () => {
    const user = await createUser(t, { attributes: { costCenter: "CC-1" } });
    await problemWithId(await t.call("/v1/users", { body: { firstName: 5 } }), 400);
    await problemWithId(await t.call("/v1/users", { token: "" }), 401);
    await problemWithId(await t.call("/v1/users/00000000-0000-7000-8000-000000000000"), 404);
    await problemWithId(await t.call("/v1/users/search", { method: "PATCH", body: {} }), 405);
    await problemWithId(await t.call("/v1/users", { body: newUser({ email: user.email, attributes: { costCenter: "CC-1" } }) }), 409);
    await problemWithId(await t.call(`/v1/users/${user.id}`, { method: "PATCH", headers: { "If-Match": 'W/"99"' }, body: { title: "x" } }), 412);
    await problemWithId(await t.call("/v1/users", { rawBody: `{"firstName":"${"a".repeat(1024 * 1024)}"}`, headers: { "Content-Type": "application/json" } }), 413);
    await problemWithId(await t.call("/v1/users", { rawBody: "x", headers: { "Content-Type": "text/plain" } }), 415);
  });

  it("a client's own X-Request-Id is echoed in the body", async () => {
    const res = await t.call("/v1/users/nope", { headers: { "X-Request-Id": "client-chosen-42" } });
    const body = await problemWithId(res, 404);
    expect(body.requestId).toBe("client-chosen-42");
  });

  it("429 carries it too", async () => {
    const clock = manualClock();
    const app = createApp({ clock, limiter: memoryLimiter(clock) });
    let last: Response | undefined;
    for (let i = 0; i < 12; i++) {
      const ctx = createExecutionContext();
      last = await app.request(`https://${t.host}/v1/users?limit=1`, { headers: { Authorization: `Bearer ${t.token}`, "CF-Connecting-IP": "198.51.100.77" } }, { ...env, RATE_LIMIT_IP_PER_SECOND: "10" }, ctx);
      await waitOnExecutionContext(ctx);
      if (last.status === 429) break;
    }
    await problemWithId(last!, 429);
  });

  it("500 carries it, and its detail quotes the same id", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    // A clock that fails is an unexpected error deep in the core: a bare 500, nothing leaked.
    const app = createApp({ clock: { now: () => { throw new TypeError("clock broke at SELECT * FROM users"); } } });
    const ctx = createExecutionContext();
    const res = await app.request(`https://${t.host}/v1/users`, { method: "POST", headers: { Authorization: `Bearer ${t.token}`, "Content-Type": "application/json" }, body: JSON.stringify(newUser({ attributes: { costCenter: "CC-1" } })) }, env, ctx);
    await waitOnExecutionContext(ctx);
    const body = await problemWithId(res, 500);
    expect(body.code).toBe("internal");
    expect(body.detail).toContain(body.requestId);
    expect(JSON.stringify(body)).not.toContain("SELECT");
    errors.mockRestore();
  });

  it("SCIM errors carry it as an extra attribute of the Error schema", async () => {
    const res = await scim(t, "/Users/00000000-0000-7000-8000-000000000000");
    expect(res.status).toBe(404);
    const body = (await res.json()) as Record<string, any>;
    expect(body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
    expect(body.requestId).toBe(res.headers.get("X-Request-Id"));
  });

  it("XML problems carry it too", async () => {
    const res = await t.call("/v1/users/nope?format=xml");
    expect(res.status).toBe(404);
    const text = await res.text();
    expect(text).toContain(`<requestId>${res.headers.get("X-Request-Id")}</requestId>`);
  });
});

describe("every problem of a request in one 400", () => {
  const threeMistakes = { firstName: "Jane", lastName: "Doe", externalId: "HR-3M", title: "t".repeat(300) };

  it("create: a missing email, a too-long title and a missing required custom attribute are three errors", async () => {
    const body = await problemWithId(await t.call("/v1/users", { body: threeMistakes }), 400);
    expect(body.code).toBe("validation_failed");
    expect(body.errors.map((e: any) => e.path).sort()).toEqual(["attributes.costCenter", "email", "title"]);
    expect(body.errors.find((e: any) => e.path === "title").message).toBe("must be at most 255 characters (got 300)");
    expect(body.detail).toBe("3 fields are not valid: email, title, attributes.costCenter. See errors for how to fix each.");
    expectNoZodWording(body);
    // Nothing was written.
    expect(((await (await t.call("/v1/users?externalId=HR-3M")).json()) as any).data).toEqual([]);
  });

  it("schema and core findings on the same request: unknown role, bad timezone, unknown field, wrong type", async () => {
    const res = await t.call("/v1/users", { body: newUser({ role: "Nope", timezone: "Mars/Base", bogus: 1, active: "yes" }) });
    const body = await problemWithId(res, 400);
    expect(body.errors.map((e: any) => e.path).sort()).toEqual(["active", "attributes.costCenter", "bogus", "role", "timezone"]);
    expect(body.errors.find((e: any) => e.path === "active").message).toBe("must be true or false (without quotes)");
    expectNoZodWording(body);
  });

  it("a field the schema reports is not reported again by the core", async () => {
    const body = await problemWithId(await t.call("/v1/users", { body: { ...threeMistakes, email: 42 } }), 400);
    expect(body.errors.filter((e: any) => e.path === "email")).toHaveLength(1);
  });

  it("PATCH: a too-long title, a wrong type and clearing a required attribute", async () => {
    const user = await createUser(t, { attributes: { costCenter: "CC-1" } });
    const res = await t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { title: "t".repeat(256), firstName: 7, attributes: { costCenter: null } } });
    const body = await problemWithId(res, 400);
    expect(body.errors.map((e: any) => e.path).sort()).toEqual(["attributes.costCenter", "firstName", "title"]);
    expect(body.errors.find((e: any) => e.path === "attributes.costCenter").message).toBe("is required and cannot be cleared");
    // The user is unchanged.
    expect(((await (await t.call(`/v1/users/${user.id}`)).json()) as any).version).toBe(user.version);
  });

  it("PATCH of an unknown user with a bad body is still a 404", async () => {
    await problemWithId(await t.call("/v1/users/00000000-0000-7000-8000-000000000000", { method: "PATCH", body: { title: 5 } }), 404);
  });

  it("PUT: a missing email, a too-long title and a missing required custom attribute", async () => {
    const user = await createUser(t, { attributes: { costCenter: "CC-1" } });
    const res = await t.call(`/v1/users/${user.id}`, { method: "PUT", body: { firstName: "A", lastName: "B", externalId: user.externalId, title: "t".repeat(300) } });
    const body = await problemWithId(res, 400);
    expect(body.errors.map((e: any) => e.path).sort()).toEqual(["attributes.costCenter", "email", "title"]);
  });

  it("invitations: an entry's schema and core errors together, under the entry's path", async () => {
    const res = await t.call("/v1/invitations", { body: { users: [newUser({ attributes: { costCenter: "CC-1" } }), threeMistakes] } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.results[0].status).toBe("created");
    expect(body.results[1].status).toBe("error");
    expect(body.results[1].errors.map((e: any) => e.path).sort()).toEqual(["users[1].attributes.costCenter", "users[1].email", "users[1].title"]);
    for (const e of body.results[1].errors) expect(e.message).not.toMatch(ZOD_WORDING);
  });

  it("query parameters: an unknown one and two bad values are three errors", async () => {
    const body = await problemWithId(await t.call("/v1/users?limit=abc&active=maybe&emial=x"), 400);
    expect(body.code).toBe("invalid_query");
    expect(body.errors.map((e: any) => e.path).sort()).toEqual(["active", "emial", "limit"]);
    expect(body.errors.find((e: any) => e.path === "limit").message).toBe("must be a whole number from 1 to 1000, e.g. limit=100");
    expect(body.errors.find((e: any) => e.path === "active").message).toBe("must be true or false");
    expect(body.detail).toContain("3 query parameters are not valid");
    expect(body.detail).toContain("Valid parameters:");
    expect(body.validParameters).toContain("email");
  });
});

describe("messages in the service's own words", () => {
  function messagesOf(schema: z.ZodType, value: unknown) {
    const result = schema.safeParse(value);
    expect(result.success).toBe(false);
    return issuesToFieldErrors(result.error!.issues);
  }

  const cases: [string, z.ZodType, unknown, string, RegExp][] = [
    ["invalid_type (missing)", z.object({ title: z.string() }), {}, "title", /^is required; it must be a string, e.g. Compliance Officer$/],
    ["invalid_type (wrong)", z.object({ n: z.number() }), { n: "1" }, "n", /^must be a number$/],
    ["invalid_type (boolean)", z.object({ active: z.boolean() }), { active: "true" }, "active", /^must be true or false/],
    ["invalid_type (null)", z.object({ a: z.array(z.string()) }), { a: null }, "a", /^cannot be null; it must be a list$/],
    ["too_big (string)", z.object({ title: z.string().max(255) }), { title: "x".repeat(300) }, "title", /^must be at most 255 characters \(got 300\)$/],
    ["too_big (number)", z.object({ n: z.number().max(10) }), { n: 11 }, "n", /^must be at most 10 \(got 11\)$/],
    ["too_big (array)", z.object({ a: z.array(z.string()).max(1) }), { a: ["x", "y"] }, "a", /^must list at most 1 entries \(got 2\)$/],
    ["too_small (empty string)", z.object({ q: z.string().min(1) }), { q: "" }, "q", /^must not be empty$/],
    ["too_small (number)", z.object({ n: z.number().min(5) }), { n: 1 }, "n", /^must be at least 5 \(got 1\)$/],
    ["invalid_format (email)", z.object({ email: z.email() }), { email: "nope" }, "email", /^must be an email address, e.g. jane\.doe@acme\.com$/],
    ["invalid_format (email, no field example)", z.object({ contact: z.email() }), { contact: "nope" }, "contact", /^must be an email address, e.g. jane\.doe@example\.com$/],
    ["invalid_format (uuid)", z.object({ id: z.uuid() }), { id: "nope" }, "id", /^must be a UUID, e.g. /],
    ["invalid_format (datetime)", z.object({ since: z.iso.datetime() }), { since: "yesterday" }, "since", /^must be an ISO 8601 date-time with a time zone, e.g. 2026-01-31T09:30:00Z$/],
    ["invalid_format (regex)", z.object({ code: z.string().regex(/^[a-z]+$/) }), { code: "A1" }, "code", /^does not have the right format/],
    ["invalid_value (enum)", z.object({ kind: z.enum(["a", "b"]) }), { kind: "c" }, "kind", /^must be one of: "a", "b"$/],
    ["invalid_value (literal)", z.object({ v: z.literal(1) }), { v: 2 }, "v", /^must be 1$/],
    ["unrecognized_keys", z.strictObject({ a: z.string() }), { a: "x", bogus: 1 }, "bogus", /^is not a recognised field/],
    ["custom", z.object({ c: z.string().refine(() => false) }), { c: "x" }, "c", /^is not valid$/],
    ["invalid_union", z.object({ u: z.union([z.string(), z.number()]) }), { u: true }, "u", /^does not match any of the accepted shapes/],
    ["not_multiple_of", z.object({ n: z.number().multipleOf(5) }), { n: 3 }, "n", /^must be a multiple of 5$/],
    ["invalid_key", z.object({ r: z.record(z.enum(["a"]), z.string()) }), { r: { b: "x" } }, "r", /./],
  ];

  for (const [kind, schema, value, path, wording] of cases) {
    it(`${kind}: names the field and says what is right`, () => {
      const errors = messagesOf(schema, value);
      const error = errors.find((e) => e.path === path || e.path.startsWith(`${path}.`));
      expect(error, JSON.stringify(errors)).toBeDefined();
      expect(error!.message).toMatch(wording);
      for (const e of errors) expect(e.message).not.toMatch(ZOD_WORDING);
    });
  }

  it("no zod phrasing in any answer to a set of bad bodies and queries (fuzz)", async () => {
    const user = await createUser(t, { attributes: { costCenter: "CC-1" } });
    const requests: [string, { method?: string; body?: unknown }][] = [
      ["/v1/users", { body: [] }],
      ["/v1/users", { body: "text" }],
      ["/v1/users", { body: { firstName: [], lastName: {}, email: true, externalId: null, groups: "x", attributes: [] } }],
      ["/v1/users", { body: { ...newUser(), doNotEmail: "no", resetPassword: 1, password: 5, groups: [1, 2] } }],
      [`/v1/users/${user.id}`, { method: "PATCH", body: { active: "false", attributes: "x", role: 3 } }],
      [`/v1/users/${user.id}`, { method: "PUT", body: { email: "nope" } }],
      ["/v1/users/search", { body: { limit: 0, page: -1, active: "yes", updatedSince: "soon", q: "" } }],
      ["/v1/users?limit=0&page=x&updatedSince=soon&q=", {}],
      ["/v1/api-tokens", { body: { name: 1, scopes: ["users:read", "root"], expiresAt: "never" } }],
      ["/v1/available-attributes", { body: { key: "1bad", type: "colour", required: "yes" } }],
      ["/v1/invitations", { body: { users: [{ email: 1 }, "x", null], sendEmail: "yes", expiresInDays: 1000 } }],
      ["/v1/roles", { body: { name: "", permissions: [1] } }],
    ];
    for (const [path, options] of requests) {
      const res = await t.call(path, options);
      const text = await res.text();
      expect(res.status, `${path} ${text}`).toBeLessThan(500);
      expect(text, path).not.toMatch(ZOD_WORDING);
    }
  });
});

describe("one path notation", () => {
  it("fieldPath: dots for members, brackets for indexes, prefixes join", () => {
    expect(fieldPath(["users", 2, "email"])).toBe("users[2].email");
    expect(fieldPath(["scopes", 1])).toBe("scopes[1]");
    expect(fieldPath(["members", 0, "value"])).toBe("members[0].value");
    expect(fieldPath(["users", 3, "attributes.costCenter"])).toBe("users[3].attributes.costCenter");
    expect(fieldPath(["users", 3, "organizationIds[0]"])).toBe("users[3].organizationIds[0]");
    expect(fieldPath([])).toBe("");
  });

  it("api-token scopes: the bad element is scopes[1]", async () => {
    const body = await problemWithId(await t.call("/v1/api-tokens", { body: { name: "x", scopes: ["users:read", "root"] } }), 400);
    expect(body.errors.map((e: any) => e.path)).toEqual(["scopes[1]"]);
    expect(body.errors[0].message).toMatch(/^must be one of: users:read/);
  });

  it("invitations: an array element of an entry is users[0].groups[1]-style, never users.0.x", async () => {
    const res = await t.call("/v1/invitations", { body: { users: [{ ...newUser({ attributes: { costCenter: "CC-1" } }), organizationIds: ["ok", 5] }] } });
    const body = (await res.json()) as any;
    expect(body.results[0].errors.map((e: any) => e.path)).toEqual(["users[0].organizationIds[1]"]);
  });

  it("a nested member of the body: attributes of the wrong shape", async () => {
    const body = await problemWithId(await t.call("/v1/users/search", { body: { limit: 1, filter: 5 } }), 400);
    expect(body.errors.map((e: any) => e.path)).toEqual(["filter"]);
    expect(JSON.stringify(body.errors)).not.toMatch(/\.\d/);
  });
});
