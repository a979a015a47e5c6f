/** Bulk invitations: per-entry outcomes, nothing half-written, 1,000 in one call, lifecycle. */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, createUser, newUser, problem, type TestTenant } from "./helpers";

let t: TestTenant;
let org: { id: string };
let org2: { id: string };
let role: { id: string };
let okta: { id: string };
let disabled: { id: string };

async function json<T = Record<string, any>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function waitForProvisioning(userId: string): Promise<Record<string, any>> {
  for (let i = 0; i < 200; i++) {
    const user = await json(await t.call(`/v1/users/${userId}`));
    if (user.provisioning?.status !== "pending") return user;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("provisioning did not finish");
}

beforeAll(async () => {
  t = await createTenant();
  org = await json(await t.call("/v1/organizations", { body: { name: "Acme EU" } }));
  org2 = await json(await t.call("/v1/organizations", { body: { name: "Acme US" } }));
  role = await json(await t.call("/v1/roles", { body: { name: "Member" } }));
  okta = await json(await t.call("/v1/identity-providers", { body: { name: "Okta", prefix: "okta" } }));
  disabled = await json(await t.call("/v1/identity-providers", { body: { name: "Old", prefix: "old", enabled: false } }));
});

describe("POST /v1/invitations", () => {
  it("answers each entry on its own and a failed entry writes nothing", async () => {
    const existing = await createUser(t, { email: "already@inv.example" });
    const good = newUser({ email: "new1@inv.example", roleId: role.id, identityProviderId: okta.id, organizationIds: [org.id, org2.id] });
    const body = {
      sendEmail: true,
      users: [
        good,
        { ...newUser({ email: "NEW1@inv.example" }) },
        newUser({ email: "Already@inv.example", organizationIds: [org.id] }),
        newUser({ email: "not-an-email" }),
        { firstName: "OnlyFirst", email: "partial@inv.example" },
        newUser({ email: "badorg@inv.example", organizationIds: ["nope"] }),
        newUser({ email: "badidp@inv.example", identityProviderId: disabled.id }),
        newUser({ email: "typo@inv.example", roleId: "not-a-role" }),
        "not an object",
      ],
    };
    const res = await t.call("/v1/invitations", { body });
    expect(res.status, await res.clone().text()).toBe(200);
    const out = await json<{ counts: Record<string, number>; results: Array<Record<string, any>> }>(res);
    expect(out.counts).toEqual({ created: 1, existing: 1, failed: 7 });
    expect(out.results.map((r) => r.status)).toEqual(["created", "error", "existing", "error", "error", "error", "error", "error", "error"]);
    expect(out.results[1]!.errors[0]).toMatchObject({ path: "users[1].email", message: "duplicates users[0] in this request" });
    expect(out.results[2]).toMatchObject({ userId: existing.id, organizationIds: [org.id] });
    expect(out.results[3]!.errors.map((e: { path: string }) => e.path)).toEqual(["users[3].email"]);
    expect(out.results[4]!.errors.map((e: { path: string }) => e.path).sort()).toEqual(["users[4].externalId", "users[4].lastName"]);
    expect(out.results[5]!.errors[0].path).toBe("users[5].organizationIds[0]");
    expect(out.results[6]!.errors[0].message).toMatch(/disabled/);
    expect(out.results[7]!.errors[0].path).toBe("users[7].roleId");
    expect(out.results[8]!.errors[0].path).toBe("users[8].(body)");

    for (const email of ["not-an-email", "partial@inv.example", "badorg@inv.example", "badidp@inv.example", "typo@inv.example"]) {
      const row = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE tenant_id = ? AND email_lower = ?").bind(t.id, email).first<{ n: number }>();
      expect(row!.n, email).toBe(0);
    }
    const created = out.results[0]!;
    const user = await waitForProvisioning(created.userId);
    expect(user).toMatchObject({ status: "invited", active: true, role: "Member", identityProviderId: okta.id });
    expect(user.provisioning.status).toBe("completed");
    expect(user.memberships.organizations.map((o: { id: string }) => o.id).sort()).toEqual([org.id, org2.id].sort());
    const addedTo = await waitForProvisioning(existing.id);
    expect(addedTo.memberships.organizations.map((o: { id: string }) => o.id)).toEqual([org.id]);
    expect(addedTo.status).toBe("active");

    const feed = await json<{ data: Array<Record<string, any>> }>(await t.call("/v1/events?types=invitation.created"));
    const mail = feed.data.find((e) => e.subjectId === created.userId || e.data?.userId === created.userId);
    expect(mail?.data ?? mail).toMatchObject({ email: "new1@inv.example", role: "Member", sendEmail: true, identityProvider: { id: okta.id, name: "Okta" } });
  });

  it("applies the tenant's required attributes as on create", async () => {
    const c = await createTenant();
    await c.call("/v1/available-attributes", { body: { key: "site", type: "string", required: true } });
    const out = await json<{ results: Array<Record<string, any>> }>(await c.call("/v1/invitations", { body: { users: [newUser(), newUser({ attributes: { site: "CPH" } })] } }));
    expect(out.results.map((r) => r.status)).toEqual(["error", "created"]);
    expect(out.results[0]!.errors[0].path).toBe("users[0].attributes.site");
  });

  it("bounds the request", async () => {
    const tooMany = await t.call("/v1/invitations", { body: { users: Array.from({ length: 1001 }, () => newUser()) } });
    expect(tooMany.status).toBe(400);
    expect((await problem(tooMany)).errors[0].path).toBe("users");
    expect((await t.call("/v1/invitations", { body: { users: [] } })).status).toBe(400);
    const reader = (await json(await t.call("/v1/api-tokens", { body: { name: "r", scopes: ["users:read"] } }))).token as string;
    expect((await t.call("/v1/invitations", { token: reader, body: { users: [newUser()] } })).status).toBe(403);
  });

  it("invites 1,000 users in one request", async () => {
    const c = await createTenant();
    const o = await json(await c.call("/v1/organizations", { body: { name: "Bulk org" } }));
    const users = Array.from({ length: 1000 }, (_, i) =>
      newUser({ email: `bulk${i}@inv.example`, externalId: `BULK-${i}`, department: i % 2 ? "Sales" : "Legal", organizationIds: [o.id] }),
    );
    const started = Date.now();
    const res = await c.call("/v1/invitations", { body: { users } });
    const elapsed = Date.now() - started;
    expect(res.status, await res.clone().text()).toBe(200);
    const out = await json<{ counts: Record<string, number> }>(res);
    expect(out.counts).toEqual({ created: 1000, existing: 0, failed: 0 });
    const count = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE tenant_id = ? AND status = 'invited'").bind(c.id).first<{ n: number }>();
    expect(count!.n).toBe(1000);
    const invites = await env.DB.prepare("SELECT count(*) AS n FROM invitations WHERE tenant_id = ?").bind(c.id).first<{ n: number }>();
    expect(invites!.n).toBe(1000);
    // Timing is reported by the benchmark, not asserted; this line helps a reader of the test log.
    console.log(`1,000 invitations in one request: ${elapsed} ms (workerd, local D1)`);
  });
});

describe("invitation lifecycle", () => {
  async function invite(extra: Record<string, unknown> = {}) {
    const out = await json<{ results: Array<Record<string, any>> }>(await t.call("/v1/invitations", { body: { users: [newUser(extra)] } }));
    expect(out.results[0]!.status).toBe("created");
    return out.results[0] as { userId: string; invitationId: string };
  }

  it("lists, resends, accepts", async () => {
    const inv = await invite();
    const listed = await json<{ data: Array<Record<string, any>> }>(await t.call("/v1/invitations?status=pending&limit=1000"));
    expect(listed.data.map((i) => i.id)).toContain(inv.invitationId);
    const resent = await json(await t.call(`/v1/invitations/${inv.invitationId}/resend`, { method: "POST" }));
    expect(resent).toMatchObject({ status: "pending", sentCount: 2 });
    const accepted = await json(await t.call(`/v1/invitations/${inv.invitationId}/accept`, { method: "POST" }));
    expect(accepted.status).toBe("accepted");
    expect(await json(await t.call(`/v1/users/${inv.userId}`))).toMatchObject({ status: "active", version: 3 });
    expect((await t.call(`/v1/invitations/${inv.invitationId}/revoke`, { method: "POST" })).status).toBe(409);
  });

  it("revoking deactivates the invited user", async () => {
    const inv = await invite();
    const revoked = await json(await t.call(`/v1/invitations/${inv.invitationId}/revoke`, { method: "POST" }));
    expect(revoked.status).toBe("revoked");
    expect(await json(await t.call(`/v1/users/${inv.userId}`))).toMatchObject({ status: "inactive", active: false });
    expect((await t.call(`/v1/invitations/${inv.invitationId}/accept`, { method: "POST" })).status).toBe(409);
  });

  it("expired invitations show as expired, cannot be accepted, and can be resent", async () => {
    const inv = await invite();
    await env.DB.prepare("UPDATE invitations SET expires_at = 1 WHERE tenant_id = ? AND id = ?").bind(t.id, inv.invitationId).run();
    await env.DB.prepare("UPDATE users SET invitation_expires_at = 1 WHERE tenant_id = ? AND id = ?").bind(t.id, inv.userId).run();
    expect((await json(await t.call(`/v1/invitations/${inv.invitationId}`))).status).toBe("expired");
    expect((await json(await t.call(`/v1/users/${inv.userId}`))).status).toBe("invitation_expired");
    const expiredList = await json<{ data: Array<{ id: string }> }>(await t.call("/v1/invitations?status=expired"));
    expect(expiredList.data.map((i) => i.id)).toContain(inv.invitationId);
    const refused = await t.call(`/v1/invitations/${inv.invitationId}/accept`, { method: "POST" });
    expect(refused.status).toBe(409);
    expect((await problem(refused)).detail).toMatch(/resend/);
    expect((await json(await t.call(`/v1/invitations/${inv.invitationId}/resend`, { method: "POST" }))).status).toBe("pending");
    expect((await json(await t.call(`/v1/users/${inv.userId}`))).status).toBe("invited");
  });

  it("is per tenant", async () => {
    const inv = await invite();
    const other = await createTenant();
    expect((await other.call(`/v1/invitations/${inv.invitationId}`)).status).toBe(404);
    expect((await other.call(`/v1/invitations/${inv.invitationId}/accept`, { method: "POST" })).status).toBe(404);
  });
});
