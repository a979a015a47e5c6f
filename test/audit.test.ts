/** The audit trail: an actor on every event (REST, SCIM, rules, platform), admin changes as events, GET /v1/audit-log. */
import { describe, expect, it, vi } from "vitest";
import { truncateIp } from "../src/audit/actor";
import { createTenant, createUser, newUser, platform, problem, type TestTenant } from "./helpers";
import { createScimUser } from "./scim/helpers";

async function audit(t: TestTenant, query = "") {
  const res = await t.call(`/v1/audit-log${query}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: Record<string, any>[] }).data;
}

describe("actor", () => {
  it("truncates client IPs to /24 and /48", () => {
    expect(truncateIp("203.0.113.77")).toBe("203.0.113.0/24");
    expect(truncateIp("2001:db8:1:2::5")).toBe("2001:db8:1::/48");
    expect(truncateIp("::1")).toBe("0:0:0::/48");
    expect(truncateIp("not an ip")).toBeUndefined();
  });

  it("REST changes carry the token, the request id and the truncated IP", async () => {
    const t = await createTenant();
    const res = await t.call("/v1/users", { body: newUser(), headers: { "CF-Connecting-IP": "198.51.100.23" } });
    expect(res.status).toBe(201);
    const user = (await res.json()) as Record<string, any>;
    const [event] = await audit(t, `?subjectId=${user.id}&types=user.created`);
    expect(event!.actor).toMatchObject({ kind: "api_token", tokenName: "First admin token", requestId: res.headers.get("X-Request-Id"), ip: "198.51.100.0/24" });
    expect(event!.actor.tokenId).toBeTruthy();
    // The feed shows it too.
    const feed = (await (await t.call("/v1/events?types=user.created")).json()) as { data: any[] };
    expect(feed.data.find((e) => e.subjectId === user.id).actor.kind).toBe("api_token");
  });

  it("SCIM changes are `scim`", async () => {
    const t = await createTenant();
    const user = await createScimUser(t);
    const [event] = await audit(t, `?subjectId=${user.id}`);
    expect(event!.actor).toMatchObject({ kind: "scim" });
    expect((await audit(t, "?actorKind=scim")).every((e) => e.actor.kind === "scim")).toBe(true);
  });

  it("memberships an audience rule makes are `rule`, with the collection", async () => {
    const t = await createTenant();
    const group = (await (await t.call("/v1/groups", { body: { name: "Sales", rule: 'department eq "Sales"' } })).json()) as Record<string, any>;
    const user = await createUser(t, { department: "Sales" });
    const added = await vi.waitUntil(async () => (await audit(t, `?subjectId=${user.id}&types=membership.added`))[0], { timeout: 15_000, interval: 50 });
    expect(added.actor).toEqual({ kind: "rule", collectionId: group.id });
  });

  it("platform changes are `platform`; admin changes are events", async () => {
    const t = await createTenant();
    const tokens = await audit(t, "?types=api_token.created");
    expect(tokens[0]).toMatchObject({ actor: { kind: "platform" } });
    expect(JSON.stringify(tokens[0])).not.toMatch(/prov_[0-9A-Za-z]{20}/);
    const patched = await platform(`/platform/tenants/${t.slug}`, { method: "PATCH", body: { name: "Renamed" } });
    expect(patched.status).toBe(200);
    expect((await audit(t, "?types=tenant.updated"))[0]).toMatchObject({ actor: { kind: "platform" }, data: { changes: { name: "Renamed" } } });
    await t.call("/v1/roles", { body: { name: "Auditor" } });
    expect((await t.call("/v1/available-attributes", { body: { key: "costCenter2", label: "Cost centre 2", type: "string" } })).status).toBe(201);
    await t.call("/v1/identity-providers", { body: { name: "Okta", prefix: "okta" } });
    const made = await t.call("/v1/api-tokens", { body: { name: "hr", scopes: ["users:read"] } });
    const token = (await made.json()) as { apiToken: { id: string } };
    await t.call(`/v1/api-tokens/${token.apiToken.id}`, { method: "DELETE" });
    const types = (await audit(t, "?actorKind=api_token")).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["role.created", "attribute_definition.created", "identity_provider.created", "api_token.created", "api_token.disabled"]));
  });

  it("filters by token, type and time, pages by cursor, and needs admin", async () => {
    const t = await createTenant();
    for (let i = 0; i < 3; i++) await createUser(t);
    const all = await audit(t, "?types=user.created");
    expect(all).toHaveLength(3);
    const first = (await (await t.call("/v1/audit-log?types=user.created&limit=2")).json()) as any;
    expect(first.data).toHaveLength(2);
    const second = (await (await t.call(`/v1/audit-log?types=user.created&limit=2&after=${first.pagination.nextCursor}`)).json()) as any;
    expect(second.data.map((e: any) => e.id)).toEqual([all[2]!.id]);
    expect(await audit(t, `?tokenId=${all[0]!.actor.tokenId}&types=user.created`)).toHaveLength(3);
    expect(await audit(t, `?until=${encodeURIComponent("2000-01-01T00:00:00Z")}`)).toHaveLength(0);
    const made = await t.call("/v1/api-tokens", { body: { name: "reader", scopes: ["users:read"] } });
    const reader = ((await made.json()) as { token: string }).token;
    const denied = await t.call("/v1/audit-log", { token: reader });
    expect(denied.status).toBe(403);
    expect((await problem(denied)).code).toBe("insufficient_scope");
  });
});
