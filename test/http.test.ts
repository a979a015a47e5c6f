/** Cross-cutting HTTP behaviour: error bodies, media types, sizes, routing, request ids, docs. */
import { beforeAll, describe, expect, it } from "vitest";
import { BASE, call, createTenant, newUser, problem, type TestTenant } from "./helpers";

let t: TestTenant;
beforeAll(async () => {
  t = await createTenant();
});

describe("request bodies", () => {
  it("rejects malformed JSON with 400 invalid_json and writes nothing", async () => {
    const res = await t.call("/v1/users", { method: "POST", rawBody: '{"firstName": "Ada",', headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(400);
    const body = await problem(res);
    expect(body.code).toBe("invalid_json");
    expect(body.detail).toMatch(/not valid JSON/);
    const list = (await (await t.call("/v1/users")).json()) as { data: unknown[] };
    expect(list.data).toHaveLength(0);
  });

  it("rejects a non-JSON content type with 415", async () => {
    const res = await t.call("/v1/users", { method: "POST", rawBody: "firstName=Ada", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    expect(res.status).toBe(415);
    expect((await problem(res)).detail).toMatch(/application\/json/);
  });

  it("rejects a body over 1 MiB with 413, by Content-Length and by streaming", async () => {
    const big = JSON.stringify({ ...newUser(), title: "x".repeat(1024 * 1024) });
    const res = await t.call("/v1/users", { method: "POST", rawBody: big, headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(413);
    expect((await problem(res)).code).toBe("payload_too_large");
    const stream = new ReadableStream({
      start(controller) {
        const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
        for (let i = 0; i < 20; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const { exports } = await import("cloudflare:workers");
    const streamed = await exports.default.fetch(
      new Request(`https://${t.host}/v1/users`, { method: "POST", body: stream, headers: { Authorization: `Bearer ${t.token}`, "Content-Type": "application/json" }, duplex: "half" } as RequestInit),
    );
    expect(streamed.status).toBe(413);
  });

  it("requires a body where the operation needs one", async () => {
    const res = await t.call("/v1/users", { method: "POST" });
    expect(res.status).toBe(400);
    const body = await problem(res);
    expect(body.errors.length).toBeGreaterThan(0);
  });

  it("names unknown and mistyped fields", async () => {
    const res = await t.call("/v1/users", { body: { ...newUser(), firstname: "typo", active: "yes" } });
    expect(res.status).toBe(400);
    const body = await problem(res);
    const paths = body.errors.map((e: { path: string }) => e.path);
    expect(paths).toContain("firstname");
    expect(paths).toContain("active");
  });
});

describe("routing", () => {
  it("answers an unknown route with 404 problem+json", async () => {
    const res = await t.call("/v1/nothing-here");
    expect(res.status).toBe(404);
    expect((await problem(res)).code).toBe("route_not_found");
  });

  it("answers a wrong method with 405 and Allow", async () => {
    const res = await t.call("/v1/users", { method: "PUT", body: {} });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toContain("POST");
    expect(res.headers.get("Allow")).toContain("GET");
    expect((await problem(res)).code).toBe("method_not_allowed");
  });

  it("carries X-Request-Id on success and error responses", async () => {
    const ok = await t.call("/v1/users");
    expect(ok.headers.get("X-Request-Id")).toBeTruthy();
    const err = await call(`nobody.${BASE}`, "/v1/users");
    expect(err.status).toBe(404);
    expect(err.headers.get("X-Request-Id")).toBeTruthy();
  });

  it("never leaks SQL or stack traces in an error", async () => {
    const res = await t.call("/v1/users?cursor=" + "A".repeat(40));
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toMatch(/select|from "users"|sqlite|at .*\.ts/i);
    expect(JSON.parse(text).code).toBe("invalid_cursor");
  });
});

describe("documentation", () => {
  it("publishes an OpenAPI 3.1 document generated from the route schemas", async () => {
    const res = await call(t.host, "/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe("3.1.0");
    for (const path of ["/v1/users", "/v1/users/{id}", "/v1/api-tokens", "/v1/available-attributes", "/platform/tenants"]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(Object.keys(doc.paths["/v1/users"]!)).toEqual(expect.arrayContaining(["get", "post"]));
    expect(doc.components.schemas).toHaveProperty("User");
    expect(doc.components.schemas).toHaveProperty("Problem");
  });

  it("serves an API reference page at /docs", async () => {
    const res = await call(BASE, "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/text\/html/);
    expect(await res.text()).toContain("/openapi.json");
  });
});
