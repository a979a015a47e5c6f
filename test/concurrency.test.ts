/**
 * Concurrent writers of one user. Without If-Match they never fail because of each other: each
 * lost race re-applies its change to the winner's row (src/users/update.ts), so 20 concurrent
 * PATCHes of 20 different attributes all answer 200, all 20 changes are there afterwards, and the
 * user went through exactly 20 versions with one user.updated event each. With If-Match a stale
 * version is 412; `If-Match: *` only asks that the user exists.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { countingContext, countingD1, RequestCounter } from "./support/counting-bindings";
import { createTenant, createUser, problem, type TestTenant } from "./helpers";
import { createScimUser, ENTERPRISE, patch, scim, scimBody, scimError, TENANT_EXT } from "./scim/helpers";

const N = 20;
const keys = Array.from({ length: N }, (_, i) => `conc${String(i + 1).padStart(2, "0")}`);

let t: TestTenant;

beforeAll(async () => {
  t = await createTenant();
  for (const key of keys) {
    const res = await t.call("/v1/available-attributes", { body: { key, type: "string" } });
    expect(res.status, await res.clone().text()).toBe(201);
  }
});

/** The user.updated events of a user, oldest first, with the version each one recorded. */
async function updatedEvents(userId: string): Promise<{ version: number; changes: Record<string, unknown> }[]> {
  const { results } = await env.DB.prepare("SELECT data FROM events WHERE tenant_id = ? AND subject_id = ? AND type = 'user.updated' ORDER BY seq")
    .bind(t.id, userId)
    .all<{ data: string }>();
  return results.map((r) => JSON.parse(r.data) as { version: number; changes: Record<string, unknown> });
}

/**
 * Sends requests in lockstep: they share one D1 counter, whose results are delivered in rounds
 * (test/support/counting-bindings.ts), so requests started together read the same version and
 * then all write against it. Every round of writes has exactly one winner; the others lose the
 * race and must re-apply. That makes the contention certain instead of up to the scheduler.
 */
function lockstep() {
  const counter = new RequestCounter();
  const app = createApp();
  const lockEnv = { ...env, DB: countingD1(env.DB, counter) };
  const contexts: ExecutionContext[] = [];
  return {
    fetch(path: string, init: { method: string; body: unknown; scim?: boolean }): Promise<Response> {
      const headers = new Headers({ Authorization: `Bearer ${t.token}`, "Content-Type": init.scim ? "application/scim+json" : "application/json" });
      const ctx = createExecutionContext();
      contexts.push(ctx);
      return Promise.resolve(app.fetch(new Request(`https://${t.host}${path}`, { method: init.method, headers, body: JSON.stringify(init.body) }), lockEnv, countingContext(ctx, counter)));
    },
    /** After all responses: how many user UPDATE batches were sent (more than N means lost races were re-applied). */
    async userWrites(): Promise<number> {
      for (const ctx of contexts) await waitOnExecutionContext(ctx);
      return counter.close().calls.filter((c) => /^batch\(\d+\): update "users" set/.test(c.label)).length;
    },
  };
}

function expectOneEventPerVersion(events: { version: number }[], from: number): void {
  expect(events).toHaveLength(N);
  expect(events.map((e) => e.version).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => from + i + 1));
}

describe("20 concurrent REST PATCHes of one user without If-Match", () => {
  it("all answer 200, every change is kept, the version goes up by exactly 20 with 20 user.updated events", async () => {
    const user = await createUser(t);
    const v0 = user.version as number;
    const lock = lockstep();
    const responses = await Promise.all(
      keys.map((key, i) => lock.fetch(`/v1/users/${user.id}`, { method: "PATCH", body: { attributes: { [key]: `value-${i + 1}` } } })),
    );
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(responses.map((r) => r.status), bodies.filter((_, i) => responses[i]!.status !== 200).join("\n")).toEqual(keys.map(() => 200));
    // Each answer shows the user as its own write left it: its change, at a distinct version.
    const versions = bodies.map((b, i) => {
      const u = JSON.parse(b) as { version: number; attributes: Record<string, string> };
      expect(u.attributes[keys[i]!]).toBe(`value-${i + 1}`);
      return u.version;
    });
    expect([...versions].sort((a, b) => a - b)).toEqual(keys.map((_, i) => v0 + i + 1));

    const after = (await (await t.call(`/v1/users/${user.id}`)).json()) as { version: number; attributes: Record<string, string> };
    expect(after.attributes).toEqual(Object.fromEntries(keys.map((k, i) => [k, `value-${i + 1}`])));
    expect(after.version).toBe(v0 + N);
    const events = await updatedEvents(user.id);
    expectOneEventPerVersion(events, v0);
    // Each event records the one attribute its request changed.
    expect(events.map((e) => Object.keys(e.changes)).flat().sort()).toEqual(keys.map((k) => `attributes.${k}`).sort());
    // The races really happened: lost writes were re-applied (in perfect lockstep, 20 + 19 + ... + 1).
    const writes = await lock.userWrites();
    console.log(`REST: ${N} concurrent PATCHes took ${writes} write batches`);
    expect(writes).toBeGreaterThan(N);
  }, 180_000);

  it("a mix of different built-in fields and attributes, sent concurrently through the Worker, also all land", async () => {
    const user = await createUser(t);
    const v0 = user.version as number;
    const changes: Record<string, unknown>[] = [
      { title: "Engineer" },
      { department: "Research" },
      { displayName: "Ada L." },
      { phone: "+44 20 7946 0000" },
      { timezone: "Europe/London" },
      { locale: "en-GB" },
      { userType: "Employee" },
      { employeeNumber: "E-1815" },
      { costCenter: "CC-42" },
      { organization: "Analytical Engines" },
      { division: "Computing" },
      ...keys.slice(0, 9).map((key) => ({ attributes: { [key]: `mixed-${key}` } })),
    ];
    expect(changes).toHaveLength(N);
    const responses = await Promise.all(changes.map((body) => t.call(`/v1/users/${user.id}`, { method: "PATCH", body })));
    const texts = await Promise.all(responses.map((r) => r.text()));
    expect(responses.map((r) => r.status), texts.join("\n")).toEqual(changes.map(() => 200));

    const after = (await (await t.call(`/v1/users/${user.id}`)).json()) as Record<string, any>;
    for (const change of changes) {
      if (change.attributes) expect(after.attributes).toMatchObject(change.attributes as Record<string, unknown>);
      else expect(after).toMatchObject(change);
    }
    expect(after.version).toBe(v0 + N);
    expectOneEventPerVersion(await updatedEvents(user.id), v0);
  }, 120_000);
});

describe("20 concurrent SCIM PATCHes of one user without If-Match", () => {
  it("all succeed (no 412, no 409), every change is kept, 20 versions and 20 user.updated events", async () => {
    const u = await createScimUser(t);
    const v0 = Number(/\d+/.exec(u.meta.version as string)![0]);
    const fieldOps: Record<string, unknown>[] = [
      { op: "replace", path: "title", value: "Analyst" },
      { op: "add", path: "displayName", value: "Barbara J." },
      { op: "replace", path: "userType", value: "Contractor" },
      { op: "replace", path: "name.givenName", value: "Babs" },
      { op: "add", path: "timezone", value: "Europe/Paris" },
      { op: "add", path: `${ENTERPRISE}:employeeNumber`, value: "701984" },
      { op: "replace", path: `${ENTERPRISE}:costCenter`, value: "4130" },
      { op: "add", path: `${ENTERPRISE}:organization`, value: "Universal Studios" },
      { op: "replace", path: `${ENTERPRISE}:division`, value: "Theme Park" },
      // Entra's shape: the operation names no path, the value carries the attribute.
      { op: "Replace", value: { [`${ENTERPRISE}:department`]: "Tour Operations" } },
    ];
    const customOps = keys.slice(0, N - fieldOps.length).map((key, i) =>
      i % 2 === 0 ? { op: "add", path: `${TENANT_EXT}:${key}`, value: `scim-${key}` } : { op: "replace", path: `${TENANT_EXT}:${key}`, value: `scim-${key}` },
    );
    const ops = [...fieldOps, ...customOps];
    expect(ops).toHaveLength(N);

    const lock = lockstep();
    const responses = await Promise.all(ops.map((op) => lock.fetch(`/scim/v2/Users/${u.id}`, { method: "PATCH", body: patch(op), scim: true })));
    const texts = await Promise.all(responses.map((r) => r.text()));
    expect(responses.map((r) => r.status), texts.filter((_, i) => responses[i]!.status !== 200).join("\n")).toEqual(ops.map(() => 200));

    const res = await scim(t, `/Users/${u.id}`);
    const after = await scimBody(res);
    expect(after).toMatchObject({
      title: "Analyst",
      displayName: "Barbara J.",
      userType: "Contractor",
      name: { givenName: "Babs", familyName: u.name.familyName },
      timezone: "Europe/Paris",
      [ENTERPRISE]: { employeeNumber: "701984", costCenter: "4130", organization: "Universal Studios", division: "Theme Park", department: "Tour Operations" },
      [TENANT_EXT]: Object.fromEntries(keys.slice(0, customOps.length).map((k) => [k, `scim-${k}`])),
    });
    expect(after.meta.version).toBe(`W/"${v0 + N}"`);
    expect(res.headers.get("ETag")).toBe(`W/"${v0 + N}"`);
    expectOneEventPerVersion(await updatedEvents(u.id), v0);
    const writes = await lock.userWrites();
    console.log(`SCIM: ${N} concurrent PATCHes took ${writes} write batches`);
    expect(writes).toBeGreaterThan(N);
  }, 180_000);
});

describe("If-Match", () => {
  it("REST: a stale version is 412 and changes nothing; `*` applies", async () => {
    const user = await createUser(t);
    const stale = `W/"${user.version}"`;
    expect((await t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { title: "First" } })).status).toBe(200);
    const refused = await t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { title: "Second" }, headers: { "If-Match": stale } });
    expect(refused.status).toBe(412);
    expect((await problem(refused)).code).toBe("precondition_failed");
    const unchanged = (await (await t.call(`/v1/users/${user.id}`)).json()) as Record<string, any>;
    expect(unchanged).toMatchObject({ title: "First", version: user.version + 1 });

    const any = await t.call(`/v1/users/${user.id}`, { method: "PATCH", body: { title: "Third" }, headers: { "If-Match": "*" } });
    expect(any.status).toBe(200);
    expect(await any.json()).toMatchObject({ title: "Third", version: user.version + 2 });
    expect(any.headers.get("ETag")).toBe(`W/"${user.version + 2}"`);
  });

  it("SCIM: a stale version is 412 and changes nothing; `*` applies", async () => {
    const u = await createScimUser(t);
    const stale = u.meta.version as string;
    expect((await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: "title", value: "First" }) })).status).toBe(200);
    await scimError(
      await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: "title", value: "Second" }), headers: { "If-Match": stale } }),
      412,
    );
    expect((await scimBody(await scim(t, `/Users/${u.id}`))).title).toBe("First");

    const any = await scim(t, `/Users/${u.id}`, { method: "PATCH", body: patch({ op: "replace", path: "title", value: "Third" }), headers: { "If-Match": "*" } });
    expect(any.status).toBe(200);
    expect((await scimBody(any)).title).toBe("Third");
  });
});
