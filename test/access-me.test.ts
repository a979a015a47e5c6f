/** GET /v1/me: any valid token of the tenant learns who it is, in JSON or XML, for one D1 call. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { manualClock } from "../src/core/context";
import { countedFetch } from "./support/counting-bindings";
import { createTenant, problem, type TestTenant } from "./helpers";

let t: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  t = await createTenant();
  other = await createTenant();
});

async function makeToken(scopes: string[], extra: Record<string, unknown> = {}) {
  const res = await t.call("/v1/api-tokens", { body: { name: `me ${scopes.join("+")}`, scopes, ...extra } });
  expect(res.status).toBe(201);
  return (await res.json()) as { token: string; apiToken: Record<string, any> };
}

interface Me {
  tenant: { id: string; slug: string; name: string };
  token: { id: string; name: string; scopes: string[]; prefix: string; createdAt: string; expiresAt: string | null; lastUsedAt: string | null };
}

describe("GET /v1/me", () => {
  it("the first admin token: the tenant and the token, never the secret", async () => {
    const res = await t.call("/v1/me");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const me = (await res.json()) as Me;
    expect(me.tenant).toEqual({ id: t.id, slug: t.slug, name: `Tenant ${t.slug}` });
    expect(me.token).toMatchObject({ name: "First admin token", scopes: ["admin", "users:read", "users:write", "scim"], expiresAt: null, prefix: t.token.slice(0, 11) });
    expect(Object.keys(me.token).sort()).toEqual(["createdAt", "expiresAt", "id", "lastUsedAt", "name", "prefix", "scopes"]);
    expect(JSON.stringify(me)).not.toContain(t.token);
    // The same token as the admin API lists it.
    const listed = (await (await t.call(`/v1/api-tokens/${me.token.id}`)).json()) as Record<string, unknown>;
    expect(listed).toMatchObject({ id: me.token.id, name: me.token.name, prefix: me.token.prefix, createdAt: me.token.createdAt });
  });

  it("a read-only token with an expiry", async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const { token, apiToken } = await makeToken(["users:read"], { expiresAt });
    const me = (await (await t.call("/v1/me", { token })).json()) as Me;
    expect(me.token).toMatchObject({ id: apiToken.id, scopes: ["users:read"], expiresAt, prefix: apiToken.prefix });
  });

  it("a SCIM-only token may ask (it is refused on the rest of /v1)", async () => {
    const { token, apiToken } = await makeToken(["scim"]);
    const res = await t.call("/v1/me", { token });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Me).token).toMatchObject({ id: apiToken.id, scopes: ["scim"] });
    expect((await t.call("/v1/users", { token })).status).toBe(403);
  });

  it("an auth-only token may ask", async () => {
    const { token } = await makeToken(["auth"]);
    expect((await t.call("/v1/me", { token })).status).toBe(200);
  });

  it("XML on request, the same document", async () => {
    const res = await t.call("/v1/me", { headers: { Accept: "application/xml" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/xml/);
    const xml = await res.text();
    expect(xml).toContain(`<slug>${t.slug}</slug>`);
    expect(xml).toMatch(/<scopes type="array"><item>admin<\/item>/);
    expect(xml).toContain('<expiresAt nil="true"/>');
  });

  it("refuses what every other route refuses: no token, a disabled one, another tenant's", async () => {
    const none = await t.call("/v1/me", { token: undefined as unknown as string, headers: {} });
    expect(none.status).toBe(401);
    expect((await problem(none)).code).toBe("missing_token");
    const { token, apiToken } = await makeToken(["users:read"]);
    await t.call(`/v1/api-tokens/${apiToken.id}`, { method: "DELETE" });
    expect((await problem(await t.call("/v1/me", { token }))).code).toBe("disabled_token");
    expect((await problem(await t.call("/v1/me", { token: other.token }))).code).toBe("wrong_tenant_token");
  });

  it("lastUsedAt includes this request, recorded at most once a minute", async () => {
    const { token } = await makeToken(["users:read"]);
    const clock = manualClock(Date.now());
    const app = createApp({ clock });
    const me = async () => {
      const ctx = createExecutionContext();
      const res = await app.fetch(new Request(`https://${t.host}/v1/me`, { headers: { Authorization: `Bearer ${token}` } }), env, ctx);
      await waitOnExecutionContext(ctx);
      return ((await res.json()) as Me).token.lastUsedAt;
    };
    const first = clock.now();
    expect(await me()).toBe(new Date(first).toISOString());
    clock.advance(30_000);
    expect(await me()).toBe(new Date(first).toISOString());
    clock.advance(30_000);
    expect(await me()).toBe(new Date(clock.now()).toISOString());
  });

  it("costs one D1 call and one hop: the token lookup is the answer", async () => {
    const app = createApp();
    const send = (auth: boolean) =>
      countedFetch(app, new Request(`https://${t.host}/v1/me`, { headers: auth ? { Authorization: `Bearer ${t.token}`, "CF-Connecting-IP": "198.19.7.1" } : { "CF-Connecting-IP": "198.19.7.2" } }), env, {
        overrides: { TENANT_CACHE_SECONDS: "60", RATE_LIMIT_ENABLED: "true" },
        createContext: createExecutionContext,
        waitOn: waitOnExecutionContext,
      });
    expect((await send(false)).response.status).toBe(401); // warms the host -> tenant cache
    const { response, counts } = await send(true);
    expect(response.status).toBe(200);
    expect(counts.d1).toBe(1);
    expect(counts.hops).toBe(1);
  });
});
