/**
 * Idempotency-Key on every POST that creates something (src/rest/idempotency.ts): a retry with the
 * same key and body replays the first response (status, body, Location, ETag, with
 * `Idempotent-Replayed: true` and its own X-Request-Id) and creates nothing; the same key with
 * another body is 422; a malformed key is a 400 naming the header; secret-bearing responses are
 * never stored and their replay is refused.
 *
 * Requests go through the app with an execution context the test waits on, so the response that is
 * filled into the record after it is sent (off the critical path) is stored before the retry,
 * without waiting on the wall clock.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { BASE, createTenant, createUser, newUser, PLATFORM_TOKEN, problem, uniqueSlug, type TestTenant } from "./helpers";

const app = createApp();

interface Send {
  method?: string;
  body?: unknown;
  key?: string;
  token?: string | null;
  headers?: Record<string, string>;
}

/** One request through the app; resolves once its background work (the stored response) is done. */
async function send(host: string, path: string, o: Send & { token?: string | null } = {}): Promise<Response> {
  const headers = new Headers(o.headers);
  if (o.token) headers.set("Authorization", `Bearer ${o.token}`);
  if (o.key !== undefined) headers.set("Idempotency-Key", o.key);
  let body: string | undefined;
  if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers.set("Content-Type", "application/json");
  }
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`https://${host}${path}`, { method: o.method ?? (body === undefined ? "GET" : "POST"), headers, body }), env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

let t: TestTenant;
const tenantCall = (path: string, o: Send = {}) => send(t.host, path, { token: t.token, ...o });
const platformCall = (path: string, o: Send = {}) => send(BASE, path, { token: PLATFORM_TOKEN, ...o });

async function count(path: string): Promise<number> {
  const res = await tenantCall(path);
  expect(res.status, path).toBe(200);
  return ((await res.json()) as { data: unknown[] }).data.length;
}

/** First request, then the same again: the replay must equal the first answer and create nothing. */
async function expectReplay(call: (o: Send) => Promise<Response>, body: unknown, other: unknown, countOf?: () => Promise<number>) {
  const key = crypto.randomUUID();
  const first = await call({ body, key });
  expect(first.status, await first.clone().text()).toBeLessThan(300);
  const firstText = await first.text();
  const before = countOf ? await countOf() : 0;
  const again = await call({ body, key });
  expect(again.status).toBe(first.status);
  expect(await again.text()).toBe(firstText);
  expect(again.headers.get("Idempotent-Replayed")).toBe("true");
  expect(first.headers.get("Idempotent-Replayed")).toBeNull();
  for (const name of ["Location", "ETag", "Content-Type"]) expect(again.headers.get(name), name).toBe(first.headers.get(name));
  expect(again.headers.get("X-Request-Id")).toBeTruthy();
  expect(again.headers.get("X-Request-Id")).not.toBe(first.headers.get("X-Request-Id"));
  if (countOf) expect(await countOf()).toBe(before);
  // The same key with another body is a different request.
  const reused = await call({ body: other, key });
  expect(reused.status).toBe(422);
  expect((await problem(reused)).code).toBe("idempotency_key_reused");
  return { first, firstText };
}

beforeAll(async () => {
  t = await createTenant();
});

describe("every creating POST replays its first response", () => {
  it("POST /v1/users (record stored in the user's own write batch)", async () => {
    const { first } = await expectReplay((o) => tenantCall("/v1/users", o), newUser(), newUser(), () => count("/v1/users?limit=1000"));
    expect(first.status).toBe(201);
    expect(first.headers.get("ETag")).toMatch(/^W\/"\d+"$/);
  });

  it("POST /v1/roles", async () => {
    await expectReplay((o) => tenantCall("/v1/roles", o), { name: `Role ${uniqueSlug()}` }, { name: `Other ${uniqueSlug()}` }, () => count("/v1/roles"));
  });

  it("POST /v1/identity-providers", async () => {
    const p = uniqueSlug("p").slice(0, 10);
    await expectReplay((o) => tenantCall("/v1/identity-providers", o), { name: `IdP ${p}`, prefix: p }, { name: `IdP2 ${p}`, prefix: `${p}x` }, () => count("/v1/identity-providers"));
  });

  it("POST /v1/available-attributes", async () => {
    await expectReplay((o) => tenantCall("/v1/available-attributes", o), { key: `k${uniqueSlug()}`, type: "string" }, { key: `k${uniqueSlug()}`, type: "number" }, () => count("/v1/available-attributes"));
  });

  it("POST /v1/groups, /v1/campaigns, /v1/access-groups, /v1/organizations, /v1/folders and their members", async () => {
    const user = await createUser(t);
    const other = await createUser(t);
    for (const segment of ["groups", "campaigns", "access-groups", "organizations", "folders"]) {
      const { firstText } = await expectReplay((o) => tenantCall(`/v1/${segment}`, o), { name: `C ${uniqueSlug()}` }, { name: `D ${uniqueSlug()}` }, () => count(`/v1/${segment}?limit=1000`));
      const id = (JSON.parse(firstText) as { id: string }).id;
      const { firstText: added } = await expectReplay((o) => tenantCall(`/v1/${segment}/${id}/members`, o), { userIds: [user.id] }, { userIds: [other.id] });
      // The replay says what the first request did (added), not what a second run would (already a member).
      expect(JSON.parse(added)).toMatchObject({ added: [user.id] });
    }
  });

  it("POST /v1/users/{id}/devices", async () => {
    const user = await createUser(t);
    await expectReplay((o) => tenantCall(`/v1/users/${user.id}/devices`, o), { platform: "ios", model: "iPhone" }, { platform: "android", model: "Pixel" }, () => count(`/v1/users/${user.id}/devices`));
  });

  it("POST /v1/invitations replays the bulk results instead of answering `existing`", async () => {
    const { firstText } = await expectReplay((o) => tenantCall("/v1/invitations", o), { users: [newUser(), newUser()] }, { users: [newUser()] }, () => count("/v1/invitations?limit=1000"));
    const results = (JSON.parse(firstText) as { results: { status: string }[] }).results;
    expect(results.map((r) => r.status)).toEqual(["created", "created"]);
  });

  it("POST /platform/tenants/{slug}/domains", async () => {
    const host = `${uniqueSlug("d")}.customers.example`;
    await expectReplay((o) => platformCall(`/platform/tenants/${t.slug}/domains`, o), { hostname: host }, { hostname: `x${host}` });
  });
});

describe("secret-bearing responses are never stored", () => {
  async function expectRefusedReplay(call: (o: Send) => Promise<Response>, body: unknown, secretOf: (json: any) => string) {
    const key = crypto.randomUUID();
    const first = await call({ body, key });
    expect(first.status, await first.clone().text()).toBe(201);
    const secret = secretOf(await first.json());
    const again = await call({ body, key });
    expect(again.status).toBe(409);
    const p = await problem(again);
    expect(p.code).toBe("secret_not_replayed");
    expect(JSON.stringify(p)).not.toContain(secret);
    expect(again.headers.get("Location")).toBe(first.headers.get("Location"));
    // Nothing in D1 holds the secret (the record keeps status and headers only).
    const rows = await env.DB.prepare("SELECT body, headers FROM idempotency_keys WHERE key = ? UNION ALL SELECT body, headers FROM platform_idempotency_keys WHERE key = ?").bind(key, key).all();
    expect(rows.results.length).toBe(1);
    expect(JSON.stringify(rows.results)).not.toContain(secret);
  }

  it("POST /v1/api-tokens: the token is shown once, and its replay is 409 secret_not_replayed", async () => {
    await expectRefusedReplay((o) => tenantCall("/v1/api-tokens", o), { name: "sync", scopes: ["users:read"] }, (j) => j.token);
  });

  it("POST /v1/webhooks: the signing secret is not stored", async () => {
    await expectRefusedReplay((o) => tenantCall("/v1/webhooks", o), { url: "https://hooks.example.com/in", events: ["user.created"] }, (j) => j.secret);
  });

  it("POST /platform/tenants: the first token is not stored", async () => {
    await expectRefusedReplay((o) => platformCall("/platform/tenants", o), { slug: uniqueSlug(), name: "Replay Inc" }, (j) => j.token);
  });
});

describe("Idempotency-Key errors", () => {
  it("a malformed key is a 400 invalid_header naming Idempotency-Key, and nothing is created", async () => {
    const before = await count("/v1/roles");
    for (const bad of ["has space", "x".repeat(256), "é"]) {
      const res = await tenantCall("/v1/roles", { body: { name: `Bad ${uniqueSlug()}` }, headers: { "Idempotency-Key": bad } });
      expect(res.status).toBe(400);
      const p = await problem(res);
      expect(p.code).toBe("invalid_header");
      expect(p.errors).toEqual([{ path: "Idempotency-Key", message: expect.stringContaining("e.g.") }]);
    }
    expect(await count("/v1/roles")).toBe(before);
  });

  it("a failed request is not stored: fixing it and retrying under the same key works", async () => {
    const key = crypto.randomUUID();
    const bad = await tenantCall("/v1/roles", { body: { name: "" }, key });
    expect(bad.status).toBe(400);
    const good = await tenantCall("/v1/roles", { body: { name: `Fixed ${uniqueSlug()}` }, key });
    expect(good.status).toBe(201);
  });

  it("concurrent requests with one key create one thing; the other answers from the record or is told to retry", async () => {
    const before = await count("/v1/roles");
    const key = crypto.randomUUID();
    const body = { name: `Race ${uniqueSlug()}` };
    const answers = await Promise.all([tenantCall("/v1/roles", { body, key }), tenantCall("/v1/roles", { body, key })]);
    const statuses = answers.map((r) => r.status).sort();
    expect([[201, 201], [201, 409]]).toContainEqual(statuses);
    for (const r of answers.filter((a) => a.status === 409)) {
      expect((await problem(r)).code).toBe("idempotency_key_in_use");
      expect(r.headers.get("Retry-After")).toBe("1");
    }
    expect(await count("/v1/roles")).toBe(before + 1);
    const later = await tenantCall("/v1/roles", { body, key });
    expect(later.status).toBe(201);
    expect(later.headers.get("Idempotent-Replayed")).toBe("true");
  });

  it("a replay in XML carries the same document", async () => {
    const key = crypto.randomUUID();
    const body = { name: `Xml ${uniqueSlug()}` };
    const first = await tenantCall("/v1/roles?format=xml", { body, key });
    expect(first.status).toBe(201);
    const again = await tenantCall("/v1/roles?format=xml", { body, key });
    expect(again.headers.get("Content-Type")).toMatch(/^application\/xml/);
    expect(await again.text()).toBe(await first.text());
  });

  it("a key of one tenant means nothing to another", async () => {
    const other = await createTenant();
    const key = crypto.randomUUID();
    const body = { name: `Shared ${uniqueSlug()}` };
    expect((await tenantCall("/v1/roles", { body, key })).status).toBe(201);
    const res = await send(other.host, "/v1/roles", { token: other.token, body, key });
    expect(res.status).toBe(201);
    expect(res.headers.get("Idempotent-Replayed")).toBeNull();
  });

  it("the contract declares the header with its real pattern on every creating POST", async () => {
    const doc = (await (await send(BASE, "/openapi.json")).json()) as { paths: Record<string, Record<string, any>>; components: { parameters: Record<string, any> } };
    // Shared parameters are $refs to components.parameters (src/openapi/parameters.ts).
    const resolve = (p: any) => (typeof p.$ref === "string" ? doc.components.parameters[p.$ref.split("/").pop()] : p);
    const creating = ["/v1/users", "/v1/roles", "/v1/identity-providers", "/v1/available-attributes", "/v1/api-tokens", "/v1/webhooks", "/v1/invitations", "/v1/groups", "/v1/groups/{id}/members", "/v1/users/{id}/devices", "/platform/tenants", "/platform/tenants/{slug}/domains", "/platform/tenants/{slug}/move", "/platform/tenants/{slug}/console-links"];
    for (const path of creating) {
      const header = (doc.paths[path]!.post.parameters as any[]).map(resolve).find((p) => p.in === "header" && p.name.toLowerCase() === "idempotency-key");
      expect(header, path).toBeTruthy();
      expect(header.schema.pattern, path).toBe("^[\\x21-\\x7e]{1,255}$");
    }
  });
});

describe("erasure", () => {
  it("an erased user's stored creation holds no personal data and replays as 410 user_erased", async () => {
    const key = crypto.randomUUID();
    const body = newUser({ department: "Secret Dept" });
    const first = await tenantCall("/v1/users", { body, key });
    expect(first.status).toBe(201);
    const user = (await first.json()) as { id: string };
    const device = await tenantCall(`/v1/users/${user.id}/devices`, { body: { platform: "ios", name: "Ada's phone" }, key: `${key}-d` });
    expect(device.status).toBe(201);
    expect((await tenantCall(`/v1/users/${user.id}?erase=true`, { method: "DELETE" })).status).toBe(200);
    const rows = await env.DB.prepare("SELECT status, body, headers FROM idempotency_keys WHERE tenant_id = ? AND key IN (?, ?)").bind(t.id, key, `${key}-d`).all();
    expect(rows.results).toEqual([
      { status: 410, body: "", headers: null },
      { status: 410, body: "", headers: null },
    ]);
    const again = await tenantCall("/v1/users", { body, key });
    expect(again.status).toBe(410);
    expect((await problem(again)).code).toBe("user_erased");
  });
});
