/** API tokens: format, hashing, every 401 flavour, scopes, disabling, expiry. */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { isWellFormedToken } from "../src/auth/tokens";
import { createTenant, problem, type TestTenant } from "./helpers";

let t: TestTenant;
let other: TestTenant;

async function makeToken(tenant: TestTenant, scopes: string[], extra: Record<string, unknown> = {}) {
  const res = await tenant.call("/v1/api-tokens", { body: { name: `token ${scopes.join("+")}`, scopes, ...extra } });
  expect(res.status).toBe(201);
  return (await res.json()) as { token: string; apiToken: { id: string; prefix: string; scopes: string[] } };
}

beforeAll(async () => {
  t = await createTenant();
  other = await createTenant();
});

describe("token format and storage", () => {
  it("issues prefixed, checksummed tokens and stores only their SHA-256", async () => {
    const { token, apiToken } = await makeToken(t, ["users:read"]);
    expect(token).toMatch(/^prov_[0-9A-Za-z]{42}$/);
    expect(isWellFormedToken(token)).toBe(true);
    expect(token.startsWith(apiToken.prefix)).toBe(true);
    const rows = await env.DB.prepare("SELECT * FROM api_tokens WHERE id = ?").bind(apiToken.id).all();
    const stored = JSON.stringify(rows.results);
    expect(stored).not.toContain(token);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(rows.results[0]!.token_hash).toBe(hex);
  });

  it("never lists the secret and records last use", async () => {
    const { token, apiToken } = await makeToken(t, ["users:read"]);
    await t.call("/v1/users", { token });
    const list = (await (await t.call("/v1/api-tokens")).json()) as { data: Array<Record<string, unknown>> };
    expect(JSON.stringify(list)).not.toContain(token);
    const mine = list.data.find((x) => x.id === apiToken.id)!;
    expect(mine.lastUsedAt).not.toBeNull();
    expect(mine.active).toBe(true);
  });

  it("validates the create body", async () => {
    const res = await t.call("/v1/api-tokens", { body: { name: "", scopes: ["users:read", "root"] } });
    expect(res.status).toBe(400);
    const body = await problem(res);
    expect(body.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(["name", "scopes[1]"]));
    const past = await t.call("/v1/api-tokens", { body: { name: "old", scopes: ["users:read"], expiresAt: "2001-01-01T00:00:00Z" } });
    expect(past.status).toBe(400);
    expect((await problem(past)).errors[0].path).toBe("expiresAt");
  });
});

describe("401s say what is wrong", () => {
  const cases: Array<[string, (tok: string) => Record<string, string>, string]> = [
    ["missing", () => ({}), "missing_token"],
    ["not bearer", (tok) => ({ Authorization: `Basic ${tok}` }), "malformed_token"],
    ["malformed", () => ({ Authorization: "Bearer not-a-token" }), "malformed_token"],
    ["bad checksum", (tok) => ({ Authorization: `Bearer ${tok.slice(0, -1)}${tok.endsWith("A") ? "B" : "A"}` }), "malformed_token"],
  ];
  for (const [name, headers, code] of cases) {
    it(`${name} -> 401 ${code} with WWW-Authenticate`, async () => {
      const res = await t.call("/v1/users", { token: undefined, headers: headers(t.token) });
      expect(res.status).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
      expect((await problem(res)).code).toBe(code);
    });
  }

  it("unknown (well-formed) token -> 401 unknown_token", async () => {
    const { generateToken } = await import("../src/auth/tokens");
    const res = await t.call("/v1/users", { token: generateToken() });
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe("unknown_token");
  });

  it("another tenant's token -> 401 wrong_tenant_token", async () => {
    const res = await t.call("/v1/users", { token: other.token });
    expect(res.status).toBe(401);
    expect((await problem(res)).detail).toMatch(/another tenant/);
  });

  it("a disabled token fails on the very next request", async () => {
    const { token, apiToken } = await makeToken(t, ["users:read"]);
    expect((await t.call("/v1/users", { token })).status).toBe(200);
    const del = await t.call(`/v1/api-tokens/${apiToken.id}`, { method: "DELETE" });
    expect(del.status).toBe(200);
    expect(((await del.json()) as { active: boolean }).active).toBe(false);
    const res = await t.call("/v1/users", { token });
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe("disabled_token");
  });

  it("an expired token -> 401 expired_token", async () => {
    const { token, apiToken } = await makeToken(t, ["users:read"], { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    expect((await t.call("/v1/users", { token })).status).toBe(200);
    await env.DB.prepare("UPDATE api_tokens SET expires_at = ? WHERE id = ?").bind(Date.now() - 1, apiToken.id).run();
    const res = await t.call("/v1/users", { token });
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe("expired_token");
  });
});

describe("scopes", () => {
  it("a read-only token cannot write and the 403 names the scope", async () => {
    const { token } = await makeToken(t, ["users:read"]);
    const res = await t.call("/v1/users", { token, body: { firstName: "A" } });
    expect(res.status).toBe(403);
    const body = await problem(res);
    expect(body.code).toBe("insufficient_scope");
    expect(body.requiredScope).toBe("users:write");
  });

  it("a users token cannot manage tokens or attributes", async () => {
    const { token } = await makeToken(t, ["users:read", "users:write"]);
    expect((await t.call("/v1/api-tokens", { token })).status).toBe(403);
    const res = await t.call("/v1/available-attributes", { token, body: { key: "x", type: "string" } });
    expect(res.status).toBe(403);
    expect((await problem(res)).requiredScope).toBe("admin");
    expect((await t.call("/v1/available-attributes", { token })).status).toBe(200);
  });

  it("a write-only token cannot read", async () => {
    const { token } = await makeToken(t, ["users:write"]);
    const res = await t.call("/v1/users", { token });
    expect(res.status).toBe(403);
    expect((await problem(res)).requiredScope).toBe("users:read");
  });

  it("disabling a token of another tenant is a 404", async () => {
    const { apiToken } = await makeToken(other, ["users:read"]);
    expect((await t.call(`/v1/api-tokens/${apiToken.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await other.call(`/v1/api-tokens/${apiToken.id}`)).status).toBe(200);
  });
});
