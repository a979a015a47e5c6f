/** One tenant can never see or touch another's data, whatever it guesses. */
import { beforeAll, describe, expect, it } from "vitest";
import { call, createTenant, createUser, newUser, problem, type TestTenant } from "./helpers";

let a: TestTenant;
let b: TestTenant;
let aliceOfA: Record<string, any>;

beforeAll(async () => {
  a = await createTenant();
  b = await createTenant();
  aliceOfA = await createUser(a, { email: "alice@shared.example", externalId: "SHARED-1" });
});

describe("tenant isolation", () => {
  it("tenant A's token is useless on tenant B's host", async () => {
    for (const [method, path] of [["GET", "/v1/users"], ["GET", `/v1/users/${aliceOfA.id}`], ["GET", "/v1/api-tokens"], ["POST", "/v1/users"]] as const) {
      const res = await call(b.host, path, { method, token: a.token, body: method === "POST" ? newUser() : undefined });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect((await problem(res)).code).toBe("wrong_tenant_token");
    }
  });

  it("tenant A's ids are unknown on tenant B's host, for every verb", async () => {
    const id = aliceOfA.id as string;
    expect((await b.call(`/v1/users/${id}`)).status).toBe(404);
    expect((await b.call(`/v1/users/${id}`, { method: "PATCH", body: { title: "pwned" } })).status).toBe(404);
    expect((await b.call(`/v1/users/${id}`, { method: "DELETE" })).status).toBe(404);
    expect((await b.call(`/v1/users/${id}?erase=true`, { method: "DELETE" })).status).toBe(404);
    const still = (await (await a.call(`/v1/users/${id}`)).json()) as Record<string, unknown>;
    expect(still).toMatchObject({ active: true, title: null, version: 1 });
  });

  it("lists, filters and searches see only the tenant's own users", async () => {
    await createUser(b, { email: "bob@b.example" });
    const list = (await (await b.call("/v1/users?limit=1000")).json()) as { data: Array<{ id: string }> };
    expect(list.data.map((u) => u.id)).not.toContain(aliceOfA.id);
    for (const q of ["email=alice@shared.example", "externalId=SHARED-1", "q=alice", "page=1&pageSize=10"]) {
      const res = (await (await b.call(`/v1/users?${q}`)).json()) as { data: Array<{ id: string }> };
      expect(res.data.map((u) => u.id), q).not.toContain(aliceOfA.id);
    }
  });

  it("uniqueness is per tenant: the same email and externalId may exist in both", async () => {
    const res = await b.call("/v1/users", { body: newUser({ email: "ALICE@shared.example", externalId: "SHARED-1" }) });
    expect(res.status).toBe(201);
  });

  it("a manager must be in the same tenant", async () => {
    const res = await b.call("/v1/users", { body: newUser({ managerId: aliceOfA.id }) });
    expect(res.status).toBe(400);
    expect((await problem(res)).errors[0].path).toBe("managerId");
  });

  it("custom attributes are per tenant", async () => {
    expect((await a.call("/v1/available-attributes", { body: { key: "clearance", type: "string", required: true } })).status).toBe(201);
    expect((await b.call("/v1/users", { body: newUser() })).status).toBe(201);
    const res = await b.call("/v1/users", { body: newUser({ attributes: { clearance: "top" } }) });
    expect(res.status).toBe(400);
    expect((await problem(res)).errors[0].path).toBe("attributes.clearance");
    await a.call("/v1/available-attributes/clearance", { method: "PATCH", body: { required: false } });
  });

  it("a cursor from tenant A leaks nothing on tenant B", async () => {
    for (let i = 0; i < 3; i++) await createUser(a);
    const page = (await (await a.call("/v1/users?limit=1")).json()) as { pagination: { nextCursor: string } };
    const res = (await (await b.call(`/v1/users?limit=1000&cursor=${page.pagination.nextCursor}`)).json()) as { data: Array<{ email: string }> };
    for (const u of res.data) expect(u.email).not.toBe(aliceOfA.email);
  });

  it("Idempotency-Keys are per tenant", async () => {
    const key = crypto.randomUUID();
    const body = newUser();
    expect((await a.call("/v1/users", { body, headers: { "Idempotency-Key": key } })).status).toBe(201);
    const res = await b.call("/v1/users", { body, headers: { "Idempotency-Key": key } });
    expect(res.status).toBe(201);
    expect(res.headers.get("Idempotent-Replayed")).toBeNull();
  });
});
