/**
 * The OpenAPI contract: both documents match their committed snapshots (openapi/*.json, linted by
 * `npm run lint:openapi`; regenerate with `npx vitest run test/openapi.test.ts -u`), every
 * operation has a unique operationId, a described tag and security, and the response headers
 * each document promises are the ones real responses carry.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { manualClock } from "../src/core/context";
import { memoryLimiter } from "../src/limits/memory";
import { HEADER_WIRE_NAMES } from "../src/openapi/headers";
import { applyOperationIds, operationIdOf } from "../src/openapi/operation-ids";
import { KEY_RE } from "../src/rest/idempotency";
import { ENTERPRISE_USER } from "../src/scim/schema";
import { SCIM_PLACEMENTS } from "../src/scim/user-fields";
import { BASE, call, createTenant, newUser, platform, type TestTenant } from "./helpers";

type Json = Record<string, any>;
const METHODS = ["get", "put", "post", "delete", "patch"];

let t: TestTenant;
let rest: Json;
let scim: Json;

beforeAll(async () => {
  // A fixed slug: the SCIM document's `servers` names the host, and the snapshot must not vary.
  t = await createTenant("acme");
  rest = await (await call(BASE, "/openapi.json")).json();
  const res = await call(t.host, "/scim/v2/openapi.json");
  expect(res.status).toBe(200);
  scim = await res.json();
});

function operations(doc: Json): { method: string; path: string; op: Json }[] {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] })));
}

describe("snapshots (linted by npm run lint:openapi)", () => {
  it("the REST document is openapi/openapi.json", async () => {
    await expect(`${JSON.stringify(rest, null, 2)}\n`).toMatchFileSnapshot("../openapi/openapi.json");
  });

  it("the SCIM document is openapi/scim.json", async () => {
    await expect(`${JSON.stringify(scim, null, 2)}\n`).toMatchFileSnapshot("../openapi/scim.json");
  });
});

describe("operations", () => {
  it.each([["REST"], ["SCIM"]])("%s: every operation has a unique camelCase operationId, a summary, one described tag and security", (which) => {
    const doc = which === "REST" ? rest : scim;
    const ids = operations(doc).map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === "string" && /^[a-z]+[A-Z][A-Za-z]*$/.test(id)), ids.join(" ")).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const described = new Map((doc.tags as { name: string; description?: string }[]).map((tag) => [tag.name, tag.description]));
    for (const { method, path, op } of operations(doc)) {
      const where = `${method} ${path}`;
      expect(op.summary, where).toBeTruthy();
      expect(op.tags, where).toHaveLength(1);
      expect(described.get(op.tags[0]), `${where}: tag ${op.tags[0]}`).toBeTruthy();
      const scheme = path.startsWith("/platform/") ? "platformAdmin" : "bearerAuth";
      expect(op.security, where).toEqual([{ [scheme]: [] }]);
    }
  });

  it("names operations by verb and noun", () => {
    const byRoute = Object.fromEntries(operations(rest).map(({ method, path, op }) => [`${method.toUpperCase()} ${path}`, op.operationId]));
    expect(byRoute).toMatchObject({
      "GET /v1/users": "listUsers",
      "GET /v1/users/{id}": "getUser",
      "POST /v1/users": "createUser",
      "PATCH /v1/users/{id}": "updateUser",
      "PUT /v1/users/{id}": "replaceUser",
      "DELETE /v1/users/{id}": "deleteUser",
      "POST /v1/users/search": "searchUsers",
      "POST /platform/tenants": "createTenant",
      "GET /v1/groups/{id}/members": "listGroupMembers",
      "POST /v1/groups/{id}/members": "addGroupMembers",
      "DELETE /platform/tenants/{slug}/domains/{hostname}": "deleteTenantDomain",
    });
    const scimIds = operations(scim).map(({ op }) => op.operationId);
    expect(scimIds).toEqual(expect.arrayContaining(["listUsers", "createUser", "replaceUser", "patchUser", "deleteUser", "searchUsers", "listGroups", "patchGroup", "processBulkRequest", "getServiceProviderConfig", "listSchemas"]));
  });

  it("derives names for new routes, and refuses what it cannot name or names twice", () => {
    expect(operationIdOf("get", "/v1/widgets/{id}/parts")).toBe("listWidgetParts");
    expect(operationIdOf("post", "/v1/categories")).toBe("createCategory");
    expect(operationIdOf("delete", "/platform/tenants/{slug}/admin-tokens/{id}")).toBe("deleteTenantAdminToken");
    expect(() => operationIdOf("get", "/v1/{id}")).toThrow(/ACTIONS/);
    expect(() => operationIdOf("patch", "/v1/widgets")).toThrow(/ACTIONS/);
    const clash = { openapi: "3.1.0", info: {}, paths: { "/v1/a": { get: { operationId: "x" } }, "/v1/b": { get: { operationId: "x" } } } };
    expect(() => applyOperationIds(clash)).toThrow(/both named x/);
  });
});

describe("parameters and schemas", () => {
  it("Idempotency-Key has the pattern the handler enforces", () => {
    const param = rest.components.parameters.IdempotencyKey;
    expect(rest.paths["/v1/users"].post.parameters).toContainEqual({ $ref: "#/components/parameters/IdempotencyKey" });
    const pattern = new RegExp(param.schema.pattern);
    for (const key of ["a", "x".repeat(255), "5f0c6a3e-2b1d-4c8e", "~!"]) expect(pattern.test(key), key).toBe(KEY_RE.test(key));
    for (const key of ["", "x".repeat(256), "has space", "é"]) expect(pattern.test(key), key).toBe(false);
  });

  it("path parameters have a bound and a description; conditional headers are shared", () => {
    for (const { method, path, op } of operations(rest)) {
      for (const p of op.parameters ?? []) {
        if (p.in === "path") expect(p.schema.maxLength && p.description, `${method} ${path} ${p.name}`).toBeTruthy();
        if (p.in === "header") throw new Error(`${method} ${path}: header ${p.name} is not a shared parameter`);
      }
    }
    expect(rest.paths["/v1/users/{id}"].patch.parameters).toContainEqual({ $ref: "#/components/parameters/IfMatch" });
    expect(rest.paths["/v1/users/{id}"].get.parameters).toContainEqual({ $ref: "#/components/parameters/IfNoneMatch" });
  });

  it("the SCIM User schema is generated from the field table: every SCIM-mapped field is in it", () => {
    const user = scim.components.schemas.User;
    expect(SCIM_PLACEMENTS.length).toBeGreaterThan(10);
    for (const p of SCIM_PLACEMENTS) {
      const container = p.container === ENTERPRISE_USER ? user.properties[ENTERPRISE_USER] : p.container === "" ? user : undefined;
      const attribute = container?.properties[p.attr];
      expect(attribute, `${p.container}:${p.attr} (${p.name})`).toBeDefined();
      if (p.sub && !p.listType) expect(attribute.properties[p.sub], `${p.attr}.${p.sub}`).toBeDefined();
    }
    expect(user.properties.password.writeOnly).toBe(true);
    expect(user.properties.id.readOnly).toBe(true);
    expect(user.required).toEqual(expect.arrayContaining(["userName", "name"]));
  });

  it("the SCIM document needs no token, only a tenant host", async () => {
    expect((await call(t.host, "/scim/v2/openapi.json")).headers.get("Content-Type")).toMatch(/^application\/json/);
    expect((await call(BASE, "/scim/v2/openapi.json")).status).toBe(404);
    expect((await call(t.host, "/scim/v2/Users")).status).toBe(401);
  });
});

// ---- response headers: the document's promises against real responses ----

interface Sample {
  doc: Json;
  method: string;
  path: string;
  res: Response;
}

function resolve(doc: Json, node: Json): Json {
  return node.$ref ? doc.components[node.$ref.split("/")[2]][node.$ref.split("/")[3]] : node;
}

function documentedHeaders(s: Sample): Map<string, { required: boolean }> {
  const op = s.doc.paths[s.path]?.[s.method];
  if (!op) throw new Error(`no operation ${s.method} ${s.path}`);
  const response = op.responses[String(s.res.status)];
  if (!response) throw new Error(`${s.method} ${s.path} does not document ${s.res.status}`);
  const headers = resolve(s.doc, response).headers ?? {};
  return new Map(Object.entries(headers as Json).map(([name, h]) => [name, resolve(s.doc, h) as { required: boolean }]));
}

const CONTRACT_HEADERS = Object.values(HEADER_WIRE_NAMES);

/**
 * Every header documented as required is on every sample; every other documented header is on at
 * least one sample of its operation and status; and no contract header is sent undocumented.
 */
function expectTruthful(samples: Sample[]): void {
  const seen = new Map<string, Set<string>>();
  const documented = new Map<string, Map<string, { required: boolean }>>();
  for (const s of samples) {
    const key = `${s.method.toUpperCase()} ${s.path} ${s.res.status}`;
    const headers = documentedHeaders(s);
    documented.set(key, headers);
    const present = seen.get(key) ?? new Set<string>();
    seen.set(key, present);
    for (const [name, h] of headers) {
      if (s.res.headers.has(name)) present.add(name);
      else if (h.required) throw new Error(`${key}: required header ${name} is missing`);
    }
    for (const name of CONTRACT_HEADERS) {
      if (s.res.headers.has(name)) expect(headers.has(name), `${key} sends ${name} but does not document it`).toBe(true);
    }
  }
  for (const [key, headers] of documented) {
    for (const name of headers.keys()) expect(seen.get(key)!.has(name), `${key}: documented ${name} never seen`).toBe(true);
  }
}

describe("documented response headers are really sent", () => {
  it("REST and platform", async () => {
    const samples: Sample[] = [];
    const add = (method: string, path: string, res: Response) => samples.push({ doc: rest, method, path, res });
    const key = crypto.randomUUID();
    const body = newUser();
    const created = await t.call("/v1/users", { body, headers: { "Idempotency-Key": key } });
    add("post", "/v1/users", created);
    add("post", "/v1/users", await t.call("/v1/users", { body, headers: { "Idempotency-Key": key } }));
    const user = (await created.json()) as Json;
    const item = `/v1/users/${user.id}`;
    const read = await t.call(item);
    add("get", "/v1/users/{id}", read);
    add("get", "/v1/users/{id}", await t.call(item, { headers: { "If-None-Match": read.headers.get("ETag")! } }));
    add("patch", "/v1/users/{id}", await t.call(item, { method: "PATCH", body: { title: "Counsel" } }));
    add("patch", "/v1/users/{id}", await t.call(item, { method: "PATCH", body: { title: "x" }, headers: { "If-Match": 'W/"999"' } }));
    add("put", "/v1/users/{id}", await t.call(item, { method: "PUT", body: newUser() }));
    add("delete", "/v1/users/{id}", await t.call(item, { method: "DELETE" }));
    add("get", "/v1/users/{id}", await t.call("/v1/users/00000000-0000-7000-8000-000000000000"));
    await t.call("/v1/users", { body: newUser() });
    add("get", "/v1/users", await t.call("/v1/users?limit=1"));
    add("get", "/v1/users", await t.call("/v1/users", { token: "prov_nope" }));
    add("get", "/v1/users", await call(t.host, "/v1/users"));
    add("get", "/v1/users", await t.call("/v1/users", { method: "PUT", body: {} }));
    add("post", "/v1/users", await t.call("/v1/users", { body: { firstName: "" } }));
    // Every creating POST takes Idempotency-Key: the first answer and its replay.
    const roleBody = { body: { name: `Role ${key}`, weight: 1 }, headers: { "Idempotency-Key": `role-${key}` } };
    add("post", "/v1/roles", await t.call("/v1/roles", roleBody));
    add("post", "/v1/roles", await t.call("/v1/roles", roleBody));
    const attributeBody = { body: { key: "badgeNumber", type: "string", label: "Badge" }, headers: { "Idempotency-Key": `attribute-${key}` } };
    add("post", "/v1/available-attributes", await t.call("/v1/available-attributes", attributeBody));
    add("post", "/v1/available-attributes", await t.call("/v1/available-attributes", attributeBody));
    add("post", "/platform/tenants", await platform("/platform/tenants", { body: { slug: `oa${Date.now().toString(36)}`, name: "Contract" } }));
    add("get", "/platform/tenants", await platform("/platform/tenants?limit=1"));
    add("get", "/platform/tenants", await platform("/platform/tenants", { token: "wrong" }));
    expectTruthful(samples);
  });

  it("SCIM", async () => {
    const samples: Sample[] = [];
    const add = (method: string, path: string, res: Response) => samples.push({ doc: scim, method, path, res });
    const headers = { "Content-Type": "application/scim+json" };
    const send = (path: string, options: Json = {}) => call(t.host, `/scim/v2${path}`, { token: t.token, headers, ...options });
    const created = await send("/Users", { body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "sam@acme.test", name: { givenName: "Sam", familyName: "Doe" }, emails: [{ value: "sam@acme.test" }], externalId: "S-1" } });
    add("post", "/Users", created);
    const id = ((await created.json()) as Json).id;
    const read = await send(`/Users/${id}`);
    add("get", "/Users/{id}", read);
    add("get", "/Users/{id}", await send(`/Users/${id}`, { headers: { "If-None-Match": read.headers.get("ETag")! } }));
    add("get", "/Users", await send("/Users?count=1"));
    add("get", "/Users", await call(t.host, "/scim/v2/Users"));
    add("get", "/Users/{id}", await send("/Users/missing"));
    const group = await send("/Groups", { body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Contract" } });
    add("post", "/Groups", group);
    const patchOp = { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "add", path: "members", value: [{ value: id }] }] };
    add("patch", "/Groups/{id}", await send(`/Groups/${((await group.json()) as Json).id}`, { method: "PATCH", body: patchOp }));
    add("delete", "/Users/{id}", await send(`/Users/${id}`, { method: "DELETE" }));
    add("get", "/ServiceProviderConfig", await send("/ServiceProviderConfig"));
    add("get", "/Users", await send("/Users", { method: "PUT", body: {} }));
    expectTruthful(samples);
  });

  it("429 carries Retry-After and the rate-limit headers", async () => {
    const clock = manualClock();
    const app = createApp({ clock, limiter: memoryLimiter(clock) });
    const limited = { ...env, RATE_LIMIT_IP_PER_SECOND: "1" };
    const send = async () => {
      const ctx = createExecutionContext();
      const res = await app.fetch(new Request(`https://${t.host}/v1/users`, { headers: { Authorization: `Bearer ${t.token}`, "CF-Connecting-IP": "10.9.9.9" } }), limited, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    const first = await send();
    const second = await send();
    expect([first.status, second.status]).toEqual([200, 429]);
    expectTruthful([{ doc: rest, method: "get", path: "/v1/users", res: second }]);
  });
});
