// End-to-end: the typed client (clients/typescript, run from its TypeScript sources through Node's
// type stripping) against the dev server. The platform API on the apex host creates a tenant with
// the universal client (plain fetch); the tenant is reached with the Node entry's tenantHost,
// since Node's fetch can neither resolve *.localhost nor send a Host header. The round trip itself
// is clients/typescript/examples/round-trip.ts, which `npm run typecheck` compiles.
import assert from "node:assert/strict";
import { userRoundTrip } from "../../clients/typescript/examples/round-trip.ts";
import { createClient as createFetchClient } from "../../clients/typescript/src/index.ts";
import { createClient } from "../../clients/typescript/src/node.ts";

export async function clientSuite({ server, step }) {
  const apex = `http://localhost:${server.port}`;
  const slug = `cli${Date.now().toString(36)}`;
  let token;
  await step("platform: create a tenant with the typed client", async () => {
    const platform = createFetchClient({ baseUrl: apex, token: server.platformToken });
    const { data, error, response } = await platform.POST("/platform/tenants", { body: { slug, name: "Client Co" } });
    assert.equal(response.status, 201, JSON.stringify(error));
    assert.equal(data.tenant.slug, slug);
    assert.match(data.token, /^prov_/);
    token = data.token;
    const refused = await createFetchClient({ baseUrl: apex, token: "not-the-platform-token" }).GET("/platform/tenants");
    assert.equal(refused.response.status, 401);
    assert.equal(refused.data, undefined);
    assert.equal(typeof refused.error.code, "string", JSON.stringify(refused.error));
  });

  const api = () => createClient({ baseUrl: `http://127.0.0.1:${server.port}`, token, tenantHost: `${slug}.localhost:${server.port}` });
  await step("tenant: create, read, list (finds it) and delete a user", async () => {
    const { created, read, listed, deleted } = await userRoundTrip(api(), `CLI-${slug}`);
    assert.equal(created.externalId, `CLI-${slug}`);
    assert.equal(created.active, true);
    assert.equal(read.id, created.id);
    assert.equal(read.email, created.email);
    assert.deepEqual(listed.map((u) => u.id), [created.id]);
    assert.equal(deleted.id, created.id);
    assert.equal(deleted.active, false);
  });

  await step("tenant: errors arrive as typed problems; bad options are refused up front", async () => {
    const missing = await api().GET("/v1/users/{id}", { params: { path: { id: "usr_does_not_exist" } } });
    assert.equal(missing.response.status, 404);
    assert.equal(missing.error.code, "not_found");
    assert.match(missing.error.detail, /usr_does_not_exist/);
    const badToken = await createClient({ baseUrl: `http://127.0.0.1:${server.port}`, token: "prov_wrong", tenantHost: `${slug}.localhost:${server.port}` }).GET("/v1/users");
    assert.equal(badToken.response.status, 401);
    // Another tenant's host with this tenant's token: the token does not travel.
    const elsewhere = await createClient({ baseUrl: `http://127.0.0.1:${server.port}`, token, tenantHost: `nope${slug}.localhost:${server.port}` }).GET("/v1/users");
    assert.ok(elsewhere.response.status >= 400 && elsewhere.response.status < 500, String(elsewhere.response.status));
    assert.throws(() => createClient({ baseUrl: "localhost:8787", token }), /baseUrl must be an http\(s\) URL/);
    assert.throws(() => createClient({ baseUrl: apex, token: "" }), /token is required/);
    assert.throws(() => createClient({ baseUrl: apex, token, tenantHost: "acme.localhost/v1" }), /tenantHost must be a host name/);
  });
}
