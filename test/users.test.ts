/** The users REST API over the users core: validation, uniqueness, lifecycle, preconditions, idempotency. */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, createUser, newUser, problem, type TestTenant } from "./helpers";

let t: TestTenant;
beforeAll(async () => {
  t = await createTenant();
});

const paths = (body: Record<string, any>): string[] => (body.errors as Array<{ path: string }>).map((e) => e.path);

describe("create", () => {
  it("creates a user with Location, ETag, defaults and a derived display name", async () => {
    const input = newUser({ phone: "+45 1234", timezone: "europe/copenhagen", locale: "en-gb" });
    const res = await t.call("/v1/users", { body: input });
    expect(res.status).toBe(201);
    const user = (await res.json()) as Record<string, unknown>;
    expect(res.headers.get("Location")).toBe(`/v1/users/${user.id}`);
    expect(res.headers.get("ETag")).toBe('W/"1"');
    expect(user).toMatchObject({
      firstName: input.firstName,
      email: input.email,
      displayName: `${input.firstName} ${input.lastName}`,
      active: true,
      version: 1,
      timezone: "Europe/Copenhagen",
      locale: "en-GB",
      attributes: {},
    });
    const got = (await (await t.call(`/v1/users/${user.id}`)).json()) as Record<string, unknown>;
    // GET adds the user's memberships; provisioning moves on as the queue applies side effects.
    const { provisioning: _p1, memberships: _m1, ...readBack } = got;
    const { provisioning: _p2, ...created } = user;
    expect(readBack).toEqual(created);
  });

  it("requires firstName, lastName, email and externalId, naming each", async () => {
    const res = await t.call("/v1/users", { body: {} });
    expect(res.status).toBe(400);
    const body = await problem(res);
    expect(paths(body)).toEqual(expect.arrayContaining(["firstName", "lastName", "email", "externalId"]));
    expect(body.errors[0].message).toMatch(/required/);
  });

  it("rejects blank required values, bad email, time zone, locale and over-long fields", async () => {
    const res = await t.call("/v1/users", {
      body: newUser({ firstName: "   ", email: "not-an-email", timezone: "Mars/Olympus", locale: "!!", title: "x".repeat(300) }),
    });
    expect(res.status).toBe(400);
    const body = await problem(res);
    expect(paths(body)).toEqual(expect.arrayContaining(["title"]));
    const res2 = await t.call("/v1/users", { body: newUser({ firstName: "   ", email: "not-an-email", timezone: "Mars/Olympus", locale: "!!" }) });
    const body2 = await problem(res2);
    expect(paths(body2)).toEqual(expect.arrayContaining(["firstName", "email", "timezone", "locale"]));
    expect(body2.errors.find((e: { path: string }) => e.path === "timezone").message).toMatch(/IANA/);
  });

  it("rejects a manager that is not a user of this tenant, and accepts one that is", async () => {
    const other = await createTenant();
    const foreign = await createUser(other);
    const res = await t.call("/v1/users", { body: newUser({ managerId: foreign.id }) });
    expect(res.status).toBe(400);
    expect(paths(await problem(res))).toEqual(["managerId"]);
    const boss = await createUser(t);
    const report = await createUser(t, { managerId: boss.id });
    expect(report.managerId).toBe(boss.id);
  });

  it("409s a duplicate email (ignoring case) or externalId, naming the field and the existing user", async () => {
    const first = await createUser(t);
    const dupEmail = await t.call("/v1/users", { body: newUser({ email: String(first.email).toUpperCase() }) });
    expect(dupEmail.status).toBe(409);
    const b1 = await problem(dupEmail);
    expect(b1).toMatchObject({ code: "conflict", field: "email", existingUserId: first.id });
    const dupExt = await t.call("/v1/users", { body: newUser({ externalId: first.externalId }) });
    expect(dupExt.status).toBe(409);
    expect(await problem(dupExt)).toMatchObject({ field: "externalId", existingUserId: first.id });
  });

  it("concurrent creates of the same email yield one user and 409s, never a 500", async () => {
    const email = `race.${Date.now()}@example.com`;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => t.call("/v1/users", { body: newUser({ email, externalId: `race-${Date.now()}-${i}` }) })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(7);
    const list = (await (await t.call(`/v1/users?email=${encodeURIComponent(email)}`)).json()) as { data: unknown[] };
    expect(list.data).toHaveLength(1);
  });

  it("writes the user and its user.created event in one batch", async () => {
    const user = await createUser(t);
    const events = await env.DB.prepare("SELECT type, data FROM events WHERE tenant_id = ? AND subject_id = ?").bind(t.id, user.id).all();
    expect(events.results).toHaveLength(1);
    expect(events.results[0]!.type).toBe("user.created");
    expect(JSON.parse(String(events.results[0]!.data)).user.email).toBe(user.email);
  });
});

describe("custom and required attributes", () => {
  let c: TestTenant;
  beforeAll(async () => {
    c = await createTenant();
    for (const def of [
      { key: "costCenter", type: "string", required: true, label: "Cost center" },
      { key: "fte", type: "number" },
      { key: "remote", type: "boolean" },
      { key: "startDate", type: "date" },
      { key: "backupEmail", type: "email" },
      { key: "level", type: "enum", enumValues: ["junior", "senior"] },
    ]) {
      const res = await c.call("/v1/available-attributes", { body: def });
      expect(res.status, JSON.stringify(def)).toBe(201);
    }
  });

  it("lists built-in and custom attributes", async () => {
    const res = await c.call("/v1/available-attributes");
    const { data } = (await res.json()) as { data: Array<{ key: string; builtIn: boolean; required: boolean; type: string }> };
    expect(data.find((a) => a.key === "email")).toMatchObject({ builtIn: true, required: true, type: "email" });
    expect(data.find((a) => a.key === "costCenter")).toMatchObject({ builtIn: false, required: true, type: "string" });
  });

  it("enforces a required custom attribute on create", async () => {
    const res = await c.call("/v1/users", { body: newUser() });
    expect(res.status).toBe(400);
    expect(paths(await problem(res))).toEqual(["attributes.costCenter"]);
    const ok = await c.call("/v1/users", { body: newUser({ attributes: { costCenter: "CC-1" } }) });
    expect(ok.status).toBe(201);
  });

  it("checks each value against its type and names unknown keys with the available ones", async () => {
    const res = await c.call("/v1/users", {
      body: newUser({
        attributes: { costCenter: 5, fte: "full", remote: "yes", startDate: "2024-02-30", backupEmail: "nope", level: "Senior", colour: "red" },
      }),
    });
    expect(res.status).toBe(400);
    const body = await problem(res);
    const byPath = Object.fromEntries(body.errors.map((e: { path: string; message: string }) => [e.path, e.message]));
    expect(Object.keys(byPath).sort()).toEqual(
      ["attributes.backupEmail", "attributes.colour", "attributes.costCenter", "attributes.fte", "attributes.level", "attributes.remote", "attributes.startDate"].sort(),
    );
    expect(byPath["attributes.colour"]).toMatch(/available custom attributes: .*costCenter/);
    expect(byPath["attributes.level"]).toMatch(/"junior", "senior"/);
  });

  it("stores typed values and merge-patches them", async () => {
    const res = await c.call("/v1/users", {
      body: newUser({ attributes: { costCenter: "CC-2", fte: 0.8, remote: true, startDate: "2024-02-29", backupEmail: "b@x.io", level: "senior" } }),
    });
    expect(res.status).toBe(201);
    const user = (await res.json()) as { id: string; attributes: Record<string, unknown> };
    expect(user.attributes).toEqual({ costCenter: "CC-2", fte: 0.8, remote: true, startDate: "2024-02-29", backupEmail: "b@x.io", level: "senior" });
    const patched = await c.call(`/v1/users/${user.id}`, { method: "PATCH", body: { attributes: { fte: 1, remote: null } } });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as typeof user).attributes).toEqual({ costCenter: "CC-2", fte: 1, startDate: "2024-02-29", backupEmail: "b@x.io", level: "senior" });
    const clear = await c.call(`/v1/users/${user.id}`, { method: "PATCH", body: { attributes: { costCenter: null } } });
    expect(clear.status).toBe(400);
    expect(paths(await problem(clear))).toEqual(["attributes.costCenter"]);
  });

  it("makes a built-in attribute required for this tenant only", async () => {
    const res = await c.call("/v1/available-attributes/department", { method: "PATCH", body: { required: true } });
    expect(res.status).toBe(200);
    const missing = await c.call("/v1/users", { body: newUser({ attributes: { costCenter: "CC" } }) });
    expect(paths(await problem(missing))).toEqual(["department"]);
    expect((await c.call("/v1/users", { body: newUser({ department: "Legal", attributes: { costCenter: "CC" } }) })).status).toBe(201);
    // Another tenant is not affected.
    expect((await t.call("/v1/users", { body: newUser() })).status).toBe(201);
    const always = await c.call("/v1/available-attributes/email", { method: "PATCH", body: { required: false } });
    expect(always.status).toBe(409);
    await c.call("/v1/available-attributes/department", { method: "PATCH", body: { required: false } });
  });

  it("validates attribute definitions", async () => {
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ key: "9lives", type: "string" }, 400, "key"],
      [{ key: "email", type: "string" }, 409, "key"],
      [{ key: "Email", type: "string" }, 409, "key"],
      [{ key: "costcenter", type: "string" }, 409, "key"],
      [{ key: "tier", type: "enum" }, 400, "enumValues"],
      [{ key: "tier", type: "string", enumValues: ["a"] }, 400, "enumValues"],
      [{ key: "tier", type: "colour" }, 400, "type"],
    ];
    for (const [body, status, path] of cases) {
      const res = await c.call("/v1/available-attributes", { body });
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(paths(await problem(res)), JSON.stringify(body)).toContain(path);
    }
    const shrink = await c.call("/v1/available-attributes/level", { method: "PATCH", body: { enumValues: ["junior"] } });
    expect(shrink.status).toBe(409);
    const grow = await c.call("/v1/available-attributes/level", { method: "PATCH", body: { enumValues: ["junior", "senior", "lead"] } });
    expect(((await grow.json()) as { enumValues: string[] }).enumValues).toEqual(["junior", "senior", "lead"]);
  });

  it("removing a custom attribute removes its values", async () => {
    await c.call("/v1/available-attributes", { body: { key: "badge", type: "string" } });
    const user = (await (await c.call("/v1/users", { body: newUser({ attributes: { costCenter: "CC", badge: "B-7" } }) })).json()) as { id: string; version: number };
    expect((await c.call("/v1/available-attributes/badge", { method: "DELETE" })).status).toBe(204);
    const after = (await (await c.call(`/v1/users/${user.id}`)).json()) as { attributes: Record<string, unknown>; version: number };
    expect(after.attributes).toEqual({ costCenter: "CC" });
    expect(after.version).toBe(user.version + 1);
    const removed = await env.DB.prepare("SELECT data FROM events WHERE tenant_id = ? AND subject_id = ? AND type = 'user.updated'").bind(c.id, user.id).all<{ data: string }>();
    expect(removed.results.map((e) => JSON.parse(e.data))).toEqual([{ changes: { "attributes.badge": null } }]);
    expect((await c.call("/v1/available-attributes/email", { method: "DELETE" })).status).toBe(409);
    expect((await c.call("/v1/available-attributes/badge", { method: "DELETE" })).status).toBe(404);
  });
});

describe("read, update, deactivate, erase", () => {
  it("404s unknown ids, including malformed ones", async () => {
    for (const id of ["01938f5e-7c1a-7b3e-9f1e-2d7a1c9b0e11", "nope", "%27%20OR%201%3D1"]) {
      const res = await t.call(`/v1/users/${id}`);
      expect(res.status, id).toBe(404);
      expect((await problem(res)).code).toBe("not_found");
    }
  });

  it("PATCH merges, null clears optional fields, required fields cannot be cleared", async () => {
    const user = await createUser(t, { title: "Engineer", department: "R&D" });
    const res = await t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { title: "Lead", department: null } });
    expect(res.status).toBe(200);
    const patched = (await res.json()) as Record<string, unknown>;
    expect(patched).toMatchObject({ title: "Lead", department: null, firstName: user.firstName, version: 2 });
    expect(res.headers.get("ETag")).toBe('W/"2"');
    const clear = await t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { email: null, lastName: "" } });
    expect(clear.status).toBe(400);
    expect(paths(await problem(clear)).sort()).toEqual(["email", "lastName"]);
    const same = await t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { title: "Lead" } });
    expect(((await same.json()) as { version: number }).version).toBe(2);
    const merge = await t.call(`/v1/users/${user.id}`, { method: "PATCH", rawBody: JSON.stringify({ title: "CTO" }), headers: { "Content-Type": "application/merge-patch+json" } });
    expect(((await merge.json()) as { title: string }).title).toBe("CTO");
  });

  it("PATCH to a taken email is 409 and changes nothing", async () => {
    const a = await createUser(t);
    const b = await createUser(t);
    const res = await t.call(`/v1/users/${b.id}`, { method: "PATCH", body: { email: a.email, title: "X" } });
    expect(res.status).toBe(409);
    const after = (await (await t.call(`/v1/users/${b.id}`)).json()) as Record<string, unknown>;
    expect(after).toMatchObject({ email: b.email, title: null, version: 1 });
  });

  it("DELETE deactivates, PATCH active:true reactivates, each with its event", async () => {
    const user = await createUser(t);
    const del = await t.call(`/v1/users/${user.id}`, { method: "DELETE" });
    expect(del.status).toBe(200);
    expect(await del.json()).toMatchObject({ id: user.id, active: false });
    expect(await (await t.call(`/v1/users/${user.id}`)).json()).toMatchObject({ active: false });
    const re = await t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { active: true } });
    expect(await re.json()).toMatchObject({ active: true, version: 3 });
    const types = await env.DB.prepare("SELECT type FROM events WHERE tenant_id = ? AND subject_id = ? ORDER BY seq").bind(t.id, user.id).all();
    expect(types.results.map((r) => r.type)).toEqual(["user.created", "user.deactivated", "user.reactivated"]);
  });

  it("erase needs admin, removes personal data for good and leaves a tombstone", async () => {
    const tokenRes = await t.call("/v1/api-tokens", { body: { name: "rw", scopes: ["users:read", "users:write"] } });
    const rw = ((await tokenRes.json()) as { token: string }).token;
    const boss = await createUser(t);
    const report = await createUser(t, { managerId: boss.id });
    const denied = await t.call(`/v1/users/${boss.id}?erase=true`, { method: "DELETE", token: rw });
    expect(denied.status).toBe(403);
    expect((await problem(denied)).requiredScope).toBe("admin");
    const res = await t.call(`/v1/users/${boss.id}?erase=true`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: boss.id });
    const gone = await t.call(`/v1/users/${boss.id}`);
    expect(gone.status).toBe(410);
    const row = await env.DB.prepare("SELECT * FROM users WHERE tenant_id = ? AND id = ?").bind(t.id, boss.id).first();
    expect(row).toMatchObject({ email: null, first_name: null, last_name: null, external_id: null, attributes: "{}" });
    const events = await env.DB.prepare("SELECT type, data FROM events WHERE tenant_id = ? AND subject_id = ? ORDER BY seq").bind(t.id, boss.id).all();
    expect(events.results.map((e) => e.type)).toEqual(["user.created", "user.erased"]);
    expect(JSON.stringify(events.results)).not.toContain(String(boss.email));
    expect(await (await t.call(`/v1/users/${report.id}`)).json()).toMatchObject({ managerId: null, version: 2 });
    const reportEvents = await env.DB.prepare("SELECT type, data FROM events WHERE tenant_id = ? AND subject_id = ? ORDER BY seq").bind(t.id, report.id).all<{ type: string; data: string }>();
    expect(reportEvents.results.map((e) => e.type)).toEqual(["user.created", "user.updated"]);
    expect(JSON.parse(reportEvents.results[1]!.data)).toEqual({ changes: { managerId: null } });
    // The email is free again.
    expect((await t.call("/v1/users", { body: newUser({ email: boss.email, externalId: boss.externalId }) })).status).toBe(201);
    expect((await t.call(`/v1/users/${boss.id}`, { method: "PATCH", body: { title: "x" } })).status).toBe(410);
  });
});

describe("ETag preconditions", () => {
  it("If-None-Match gives 304 for the current version and 200 after a change", async () => {
    const user = await createUser(t);
    const res = await t.call(`/v1/users/${user.id}`, { headers: { "If-None-Match": 'W/"1"' } });
    expect(res.status).toBe(304);
    expect(res.headers.get("ETag")).toBe('W/"1"');
    await t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { title: "New" } });
    expect((await t.call(`/v1/users/${user.id}`, { headers: { "If-None-Match": 'W/"1"' } })).status).toBe(200);
  });

  it("If-Match on PATCH and DELETE gives 412 on a mismatch and applies on a match", async () => {
    const user = await createUser(t);
    const stale = await t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { title: "A" }, headers: { "If-Match": 'W/"7"' } });
    expect(stale.status).toBe(412);
    expect(await problem(stale)).toMatchObject({ code: "precondition_failed", currentVersion: 1 });
    const ok = await t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { title: "A" }, headers: { "If-Match": '"1"' } });
    expect(ok.status).toBe(200);
    expect((await t.call(`/v1/users/${user.id}`, { method: "DELETE", headers: { "If-Match": 'W/"1"' } })).status).toBe(412);
    expect((await t.call(`/v1/users/${user.id}`, { method: "DELETE", headers: { "If-Match": 'W/"2"' } })).status).toBe(200);
  });

  it("concurrent PATCHes of different fields both land", async () => {
    const user = await createUser(t);
    const [a, b] = await Promise.all([
      t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { title: "T" } }),
      t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { department: "D" } }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const after = (await (await t.call(`/v1/users/${user.id}`)).json()) as Record<string, unknown>;
    expect(after).toMatchObject({ title: "T", department: "D", version: 3 });
    const events = await env.DB.prepare("SELECT COUNT(*) AS n FROM events WHERE tenant_id = ? AND subject_id = ? AND type = 'user.updated'").bind(t.id, user.id).first<{ n: number }>();
    expect(events!.n).toBe(2);
  });
});

describe("Idempotency-Key", () => {
  it("replays the first response for a retry and creates nothing more", async () => {
    const body = newUser();
    const key = crypto.randomUUID();
    const first = await t.call("/v1/users", { body, headers: { "Idempotency-Key": key } });
    expect(first.status).toBe(201);
    const firstBody = await first.json();
    const retry = await t.call("/v1/users", { body: { ...body }, headers: { "Idempotency-Key": key } });
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(retry.headers.get("Location")).toBe(first.headers.get("Location"));
    expect(await retry.json()).toEqual(firstBody);
    const list = (await (await t.call(`/v1/users?email=${encodeURIComponent(String(body.email))}`)).json()) as { data: unknown[] };
    expect(list.data).toHaveLength(1);
  });

  it("422s the same key with a different body", async () => {
    const key = crypto.randomUUID();
    expect((await t.call("/v1/users", { body: newUser(), headers: { "Idempotency-Key": key } })).status).toBe(201);
    const res = await t.call("/v1/users", { body: newUser(), headers: { "Idempotency-Key": key } });
    expect(res.status).toBe(422);
    expect((await problem(res)).code).toBe("idempotency_key_reused");
  });

  it("concurrent retries with one key create exactly one user", async () => {
    const body = newUser();
    const key = crypto.randomUUID();
    const results = await Promise.all(Array.from({ length: 5 }, () => t.call("/v1/users", { body, headers: { "Idempotency-Key": key } })));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    const ids = new Set(await Promise.all(results.map(async (r) => ((await r.json()) as { id: string }).id)));
    expect(ids.size).toBe(1);
  });

  it("does not store failures, so a corrected retry with the same key succeeds", async () => {
    const key = crypto.randomUUID();
    const bad = await t.call("/v1/users", { body: newUser({ email: "bad" }), headers: { "Idempotency-Key": key } });
    expect(bad.status).toBe(400);
    expect((await t.call("/v1/users", { body: newUser(), headers: { "Idempotency-Key": key } })).status).toBe(201);
  });
});
