/**
 * Property-based fuzzing from the outside (issue 12). Requests are generated from the service's own
 * descriptions (the OpenAPI document and SCIM /Schemas, see fuzz/arbitraries.ts) and sent through
 * the Worker entry on tenant A's host. Every answer must satisfy the oracle:
 *
 * - no 5xx, except a deliberate 501 (RFC 7644 prescribes it for what SCIM does not implement:
 *   /Me, queries at the root), which must then be a catalogue error like any 4xx;
 * - no SQL, stack trace or file path in the body;
 * - every 4xx is problem+json (or problem+xml) with a `code`, or on SCIM a SCIM Error;
 * - nothing of tenant B (a marker only B's data holds) in any answer on A's host.
 *
 * Bounded twice, so it stays about a minute even on a busy machine: a number of runs AND a time
 * budget per property (fast-check stops at whichever comes first; reaching the time budget is
 * not a failure). FUZZ_SEED reproduces a run; a failure prints its seed and shrunk counterexample.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { BASE, call, createTenant, createUser, type TestTenant } from "./helpers";
import { anyJson, type Doc, fromSchema, hostileString, percentEncode, type ScimAttribute, scimValue } from "./fuzz/arbitraries";

const RUNS = Number(env.FUZZ_RUNS ?? 300);
const BUDGET_MS = Number(env.FUZZ_BUDGET_MS ?? 25_000);
const SEED = env.FUZZ_SEED === undefined ? undefined : Number(env.FUZZ_SEED);

let a: TestTenant;
let b: TestTenant;
let doc: Doc;
let scimSchemas: Array<{ id: string; attributes: ScimAttribute[] }>;
const marker = `Bmarker${crypto.randomUUID().replaceAll("-", "")}`;
const hints: string[] = [];

const LEAKS: Array<[string, RegExp]> = [
  ["SQL", /\b(SQLITE_\w+|D1_ERROR|no such (table|column)|syntax error|UNIQUE constraint|FOREIGN KEY constraint|INSERT INTO|DELETE FROM|UPDATE \S+ SET|SELECT .{1,80} FROM)\b/i],
  ["a stack trace", /\n\s+at \S+ \(|\bat (async )?\w+ \([^)]*:\d+:\d+\)/],
  ["a file path", /(\/[\w.-]+)+\.(ts|js|mjs|cjs)\b|node_modules|\/src\/|\/work\//],
];

/** The oracle. `sent` is what the client sent, so echoes of it are not mistaken for leaks. */
async function judge(res: Response, where: string, sent: string): Promise<void> {
  const text = await res.text();
  const context = `${where} -> ${res.status} ${text.slice(0, 300)}`;
  if (res.status !== 501) expect(res.status, context).toBeLessThan(500);
  for (const [what, re] of LEAKS) {
    const m = re.exec(text);
    if (m && !sent.includes(m[0])) expect.fail(`${what} in the answer (${m[0]}): ${context}`);
  }
  expect(text.includes(marker), `tenant B's data on tenant A's host: ${context}`).toBe(false);
  if (res.status < 400) return;
  const type = res.headers.get("Content-Type") ?? "";
  if (where.includes(" /scim/")) {
    expect(type, context).toMatch(/^application\/scim\+json/);
    const body = JSON.parse(text) as { schemas?: string[]; status?: string };
    expect(body.schemas, context).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
    expect(body.status, context).toBe(String(res.status));
  } else if (type.startsWith("application/problem+xml")) {
    expect(text, context).toMatch(/<code>[a-z_]+<\/code>/);
  } else {
    expect(type, context).toMatch(/^application\/problem\+json/);
    expect((JSON.parse(text) as { code?: unknown }).code, context).toMatch(/^[a-z_]+$/);
  }
}

async function send(host: string, method: string, path: string, body: string | undefined, headers: Record<string, string>, token: string) {
  const res = await call(host, path, { method, rawBody: method === "GET" || method === "HEAD" ? undefined : body, headers, token });
  await judge(res, `${method} ${path}${body ? ` ${body.slice(0, 200)}` : ""}`, `${path} ${body ?? ""}`);
}

beforeAll(async () => {
  [a, b] = await Promise.all([createTenant(), createTenant()]);
  // Tenant B holds the marker in every kind of data the fuzzer could reach on A's host by mistake.
  await createUser(b, { lastName: marker, email: `${marker.toLowerCase()}@b.example`, externalId: marker, title: marker });
  await b.call("/v1/groups", { body: { name: marker } });
  await b.call("/v1/roles", { body: { name: marker } });
  // Tenant A: a few real ids and names for the fuzzer to aim at, so it reaches deep code.
  const users = await Promise.all([createUser(a), createUser(a, { department: "Sales" }), createUser(a)]);
  const group = (await (await a.call("/v1/groups", { body: { name: "Fuzz" } })).json()) as { id: string };
  hints.push(...users.map((u) => u.id as string), ...users.map((u) => u.email as string), group.id, "Standard User", "Fuzz");
  doc = (await (await call(BASE, "/openapi.json")).json()) as Doc;
  const schemas = (await (await a.call("/scim/v2/Schemas")).json()) as { Resources: typeof scimSchemas };
  scimSchemas = schemas.Resources;
});

const CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "application/xml", "text/plain", "application/json;;", "application/x-www-form-urlencoded", "application/json; charset=utf-16"];

describe("fuzz", () => {
  it("REST: every operation of /openapi.json, valid and hostile input", { timeout: BUDGET_MS + 60_000 }, async () => {
    const operations = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith("/v1/"))
      .flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method: method.toUpperCase(), op })));
    expect(operations.length).toBeGreaterThan(40);
    const request = fc.constantFrom(...operations).chain(({ path, method, op }) => {
      const parameters = (op.parameters ?? []) as Array<{ name: string; in: string; schema: Record<string, unknown> }>;
      const pathParams = parameters.filter((p) => p.in === "path");
      const queryParams = parameters.filter((p) => p.in === "query");
      const media = op.requestBody?.content?.["application/json"]?.schema;
      return fc.record({
        path: fc.constant(path),
        method: fc.constant(method),
        pathValues: fc.tuple(...pathParams.map(() => fc.oneof(fc.constantFrom(...hints), hostileString.filter((s) => s.length > 0)))),
        query: fc.tuple(
          fc.subarray(queryParams).chain((chosen) => fc.tuple(...chosen.map((p) => fromSchema(doc, p.schema, hints).map((v) => [p.name, typeof v === "string" ? v : JSON.stringify(v)] as const)))),
          fc.option(fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), hostileString), { freq: 6 }),
        ),
        body: media ? fromSchema(doc, media, hints).map((v) => JSON.stringify(v)) : fc.option(anyJson.map((v) => JSON.stringify(v)), { freq: 3 }),
        contentType: fc.oneof({ weight: 8, arbitrary: fc.constant("application/json") }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) }),
        accept: fc.constantFrom("application/json", "application/xml", "*/*"),
      });
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        let path = r.path;
        for (const v of r.pathValues) path = path.replace(/\{[^}]+\}/, percentEncode(v));
        const q = new URLSearchParams([...r.query[0], ...(r.query[1] ? [r.query[1]] : [])] as [string, string][]);
        const url = q.size > 0 ? `${path}?${q}` : path;
        await send(a.host, r.method, url, r.body ?? undefined, { "Content-Type": r.contentType, Accept: r.accept }, a.token);
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false, seed: SEED, endOnFailure: true },
    );
  });

  it("SCIM: Users, Groups, .search and Bulk from /Schemas, valid and hostile input", { timeout: BUDGET_MS + 60_000 }, async () => {
    const user = scimSchemas.find((s) => s.id.endsWith(":core:2.0:User"))!;
    const group = scimSchemas.find((s) => s.id.endsWith(":core:2.0:Group"))!;
    const attrPaths = [...user.attributes.flatMap((x) => [x.name, ...(x.subAttributes ?? []).map((s) => `${x.name}.${s.name}`)]), "externalId", 'emails[type eq "work"].value'];
    const resource = (schema: { id: string; attributes: ScimAttribute[] }) =>
      fc.record(Object.fromEntries(schema.attributes.map((x) => [x.name, scimValue(x, hints)])), { requiredKeys: [] }).map((r) => ({ schemas: [schema.id], ...r }));
    const op = fc.record({
      op: fc.oneof(fc.constantFrom("add", "replace", "remove", "Replace", "Add"), hostileString),
      path: fc.option(fc.oneof(fc.constantFrom(...attrPaths), hostileString), { freq: 5 }),
      value: fc.oneof(scimValue({ name: "v", type: "string" }, hints), resource(user), anyJson),
    });
    const filter = fc.oneof(
      fc.tuple(fc.constantFrom(...attrPaths), fc.constantFrom("eq", "ne", "co", "sw", "ew", "gt", "lt", "pr", "xx"), hostileString).map(([p, o, v]) => `${p} ${o} ${JSON.stringify(v)}`),
      hostileString,
    );
    const number = fc.oneof(fc.integer({ min: -5, max: 300 }).map(String), hostileString);
    const id = fc.oneof(fc.constantFrom(...hints), hostileString.filter((s) => s.length > 0));
    const req = fc.oneof(
      resource(user).map((body) => ["POST", "/Users", body] as const),
      fc.tuple(id, fc.array(op, { maxLength: 3 })).map(([i, ops]) => ["PATCH", `/Users/${percentEncode(i)}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: ops }] as const),
      fc.tuple(id, resource(user)).map(([i, body]) => ["PUT", `/Users/${percentEncode(i)}`, body] as const),
      fc.tuple(fc.constantFrom("/Users", "/Groups"), filter, number, number).map(([p, f, s, c]) => ["GET", `${p}?${new URLSearchParams({ filter: f, startIndex: s, count: c })}`, undefined] as const),
      fc.tuple(fc.constantFrom("/Users/.search", "/Groups/.search", "/.search"), filter, fc.oneof(fc.integer(), hostileString, fc.constant(1e308))).map(([p, f, s]) => ["POST", p, { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter: f, startIndex: s }] as const),
      resource(group).map((body) => ["POST", "/Groups", body] as const),
      fc.tuple(id, fc.array(op, { maxLength: 3 })).map(([i, ops]) => ["PATCH", `/Groups/${percentEncode(i)}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: ops }] as const),
      fc.array(fc.record({ method: fc.constantFrom("POST", "PATCH", "PUT", "DELETE", "GET"), bulkId: fc.option(fc.constantFrom("a", "b"), { freq: 2 }), path: fc.constantFrom("/Users", "/Groups", "/Users/bulkId:a", "/Groups/bulkId:b"), data: fc.oneof(resource(user), anyJson) }, { requiredKeys: ["method", "path"] }), { maxLength: 4 }).map(
        (ops) => ["POST", "/Bulk", { schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], Operations: ops }] as const,
      ),
      fc.tuple(fc.constantFrom("GET", "DELETE"), id, fc.constantFrom("/Users/", "/Groups/", "/Schemas/", "/ResourceTypes/")).map(([m, i, p]) => [m, `${p}${percentEncode(i)}`, undefined] as const),
    );
    await fc.assert(
      fc.asyncProperty(req, fc.constantFrom("application/scim+json", "application/json", "text/plain"), async ([method, path, body], contentType) => {
        await send(a.host, method, `/scim/v2${path}`, body === undefined ? undefined : JSON.stringify(body), { "Content-Type": contentType, Accept: "application/scim+json" }, a.token);
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false, seed: SEED, endOnFailure: true },
    );
  });
});
