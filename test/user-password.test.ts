/** Passwords: write-only everywhere, the policy, PBKDF2 storage, verify with the `auth` scope and the lockout. */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { PBKDF2_ITERATIONS } from "../src/users/password";
import { createTenant, createUser, newUser, problem, type TestTenant } from "./helpers";
import { clockedApp } from "./support/clocked";

const SECRET = "Correct-Horse-Battery-9";
let t: TestTenant;
let authToken: string;

async function token(tenant: TestTenant, scopes: string[]): Promise<string> {
  const res = await tenant.call("/v1/api-tokens", { body: { name: `t ${scopes.join("+")}`, scopes } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

/** Every row of every table that could hold request data, as one string. */
async function everything(): Promise<string> {
  const out: string[] = [];
  for (const table of ["users", "events", "idempotency_keys", "invitations"]) {
    const exists = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").bind(table).first();
    if (!exists) continue;
    const { results } = await env.DB.prepare(`SELECT * FROM ${table}`).all();
    out.push(JSON.stringify(results));
  }
  return out.join("\n");
}

beforeAll(async () => {
  t = await createTenant();
  authToken = await token(t, ["auth"]);
});

const verify = (id: string, password: unknown, tok = authToken) => t.call(`/v1/users/${id}/password/verify`, { token: tok, body: { password } });

describe("setting a password", () => {
  it("is accepted on create, never returned, stored as a salted PBKDF2 hash with its parameters", async () => {
    const res = await t.call("/v1/users", { body: newUser({ password: SECRET }), headers: { "Idempotency-Key": "pw-create-1" } });
    expect(res.status).toBe(201);
    const text = await res.text();
    expect(text).not.toContain(SECRET);
    const user = JSON.parse(text);
    expect(user.hasPassword).toBe(true);
    expect(user).not.toHaveProperty("password");
    const row = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(user.id).first<{ password_hash: string }>();
    const [alg, iterations, salt, hash] = row!.password_hash.split("$");
    expect(alg).toBe("pbkdf2-sha256");
    expect(Number(iterations)).toBe(PBKDF2_ITERATIONS);
    expect(PBKDF2_ITERATIONS).toBeGreaterThanOrEqual(600_000);
    expect(atob(salt!).length).toBe(16);
    expect(atob(hash!).length).toBe(32);
    // The idempotent replay carries no password either.
    const replay = await t.call("/v1/users", { body: newUser({ password: SECRET }), headers: { "Idempotency-Key": "pw-create-1" } });
    expect(await replay.text()).not.toContain(SECRET);
  });

  it("the same password twice gets two different salts", async () => {
    const a = await createUser(t, { password: SECRET });
    const b = await createUser(t, { password: SECRET });
    const rows = await env.DB.prepare("SELECT password_hash FROM users WHERE id IN (?, ?)").bind(a.id, b.id).all<{ password_hash: string }>();
    expect(rows.results[0]!.password_hash).not.toBe(rows.results[1]!.password_hash);
  });

  it("refuses passwords outside the policy with clear errors that never quote them", async () => {
    const short = "short-pw-1";
    let res = await t.call("/v1/users", { body: newUser({ password: short }) });
    expect(res.status).toBe(400);
    let body = await problem(res);
    expect(body.errors).toEqual([{ path: "password", message: "must be at least 12 characters" }]);
    expect(JSON.stringify(body)).not.toContain(short);

    res = await t.call("/v1/users", { body: newUser({ password: "x".repeat(257) }) });
    expect((await problem(res)).errors[0]).toMatchObject({ path: "password", message: "must be at most 256 characters" });

    const email = "Same.As.Email@example.com";
    res = await t.call("/v1/users", { body: newUser({ email, password: email.toLowerCase() }) });
    body = await problem(res);
    expect(body.errors).toEqual([{ path: "password", message: "must not be the user's email address" }]);

    res = await t.call("/v1/users", { body: newUser({ password: 123456789012 }) });
    expect(res.status).toBe(400);
  });

  it("PATCH sets and resetPassword flags the user; the event says only that the password changed", async () => {
    const u = await createUser(t);
    expect(u.hasPassword).toBe(false);
    expect(u.passwordResetRequired).toBe(false);
    const res = await t.call(`/v1/users/${u.id}`, { method: "PATCH", body: { password: SECRET, resetPassword: true } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(SECRET);
    expect(JSON.parse(text)).toMatchObject({ hasPassword: true, passwordResetRequired: true });
    const feed = await (await t.call(`/v1/events?types=user.updated`)).text();
    expect(feed).toContain('"passwordChanged":true');
    expect(feed).not.toContain(SECRET);
  });

  it("a password never reaches a response, the feed, an event or an idempotency record", async () => {
    const marker = "Zebra-Marker-Secret-4711";
    const u = await createUser(t, { password: marker });
    await t.call(`/v1/users/${u.id}`, { method: "PATCH", body: { password: `${marker}-2` } });
    await t.call("/v1/users", { body: newUser({ password: `${marker}-3` }), headers: { "Idempotency-Key": "pw-marker" } });
    await t.call("/v1/invitations", { body: { users: [newUser({ password: `${marker}-4` })] } });
    await verify(u.id, `${marker}-wrong`);
    await verify(u.id, `${marker}-2`);
    expect(await everything()).not.toContain(marker);
    expect(await (await t.call("/v1/events")).text()).not.toContain(marker);
    expect(await (await t.call(`/v1/users/${u.id}`)).text()).not.toContain(marker);
  });
});

describe("POST /v1/users/{id}/password/verify", () => {
  it("needs the auth scope, and the auth scope alone reads nothing else", async () => {
    const u = await createUser(t, { password: SECRET });
    const writer = await token(t, ["users:read", "users:write"]);
    expect((await verify(u.id, SECRET, writer)).status).toBe(403);
    expect((await t.call(`/v1/users/${u.id}`, { token: authToken })).status).toBe(403);
  });

  it("answers valid true / false, audits every check without the password", async () => {
    const u = await createUser(t, { password: SECRET });
    let res = await verify(u.id, SECRET);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ valid: true, passwordResetRequired: false });
    res = await verify(u.id, "Not-The-Password-1");
    expect(await res.json()).toEqual({ valid: false });
    const feed = (await (await t.call(`/v1/events?types=user.password_verified`)).json()) as { data: Array<{ subjectId: string; data: Record<string, unknown> }> };
    const mine = feed.data.filter((e) => e.subjectId === u.id).map((e) => e.data.outcome);
    expect(mine).toEqual(["valid", "invalid"]);
    expect(JSON.stringify(feed)).not.toContain("Not-The-Password-1");
  });

  it("a user without a password is never valid; unknown users are 404; a missing password is a 400", async () => {
    const u = await createUser(t);
    expect(await (await verify(u.id, SECRET)).json()).toEqual({ valid: false });
    expect((await verify("no-such-user", SECRET)).status).toBe(404);
    const res = await t.call(`/v1/users/${u.id}/password/verify`, { token: authToken, body: {} });
    expect(res.status).toBe(400);
    expect((await problem(res)).errors[0].path).toBe("password");
  });

  it("5 wrong passwords in 15 minutes lock the user for 15 minutes (423, lockedUntil, visible on the user)", async () => {
    const { clock, call } = clockedApp();
    const u = await createUser(t, { password: SECRET });
    const check = (password: string) => call(t, `/v1/users/${u.id}/password/verify`, { token: authToken, body: { password } });
    for (let i = 0; i < 4; i++) {
      expect(await (await check(`wrong-password-${i}`)).json()).toEqual({ valid: false });
      clock.advance(60_000);
    }
    expect(await (await check("wrong-password-5")).json()).toEqual({ valid: false });
    const lockedAt = clock.now();
    // Locked: even the right password is refused, without being checked.
    let res = await check(SECRET);
    expect(res.status).toBe(423);
    const body = await problem(res);
    expect(body.code).toBe("locked");
    expect(body.lockedUntil).toBe(new Date(lockedAt + 15 * 60_000).toISOString());
    expect(res.headers.get("Retry-After")).toBe(String(15 * 60));
    expect(((await (await call(t, `/v1/users/${u.id}`)).json()) as { lockedUntil: string | null }).lockedUntil).toBe(body.lockedUntil);
    clock.advance(15 * 60_000 - 1);
    expect((await check(SECRET)).status).toBe(423);
    clock.advance(1);
    res = await check(SECRET);
    expect(await res.json()).toEqual({ valid: true, passwordResetRequired: false });
    expect(((await (await call(t, `/v1/users/${u.id}`)).json()) as { lockedUntil: string | null }).lockedUntil).toBeNull();
  });

  it("failures spread over more than 15 minutes do not lock", async () => {
    const { clock, call } = clockedApp();
    const u = await createUser(t, { password: SECRET });
    const check = (password: string) => call(t, `/v1/users/${u.id}/password/verify`, { token: authToken, body: { password } });
    for (let i = 0; i < 8; i++) {
      expect((await check(`wrong-password-${i}`)).status).toBe(200);
      clock.advance(4 * 60_000);
    }
    expect(await (await check(SECRET)).json()).toMatchObject({ valid: true });
  });

  it("a success resets the count", async () => {
    const { call } = clockedApp();
    const u = await createUser(t, { password: SECRET });
    const check = (password: string) => call(t, `/v1/users/${u.id}/password/verify`, { token: authToken, body: { password } });
    for (let i = 0; i < 4; i++) await check(`wrong-password-${i}`);
    expect(await (await check(SECRET)).json()).toMatchObject({ valid: true });
    for (let i = 0; i < 4; i++) expect((await check(`wrong-password-${i}`)).status).toBe(200);
    expect(await (await check(SECRET)).json()).toMatchObject({ valid: true });
  });

  it("is tenant-bound: another tenant's auth token cannot check this tenant's users", async () => {
    const other = await createTenant();
    const otherAuth = await token(other, ["auth"]);
    const u = await createUser(t, { password: SECRET });
    expect((await other.call(`/v1/users/${u.id}/password/verify`, { token: otherAuth, body: { password: SECRET } })).status).toBe(404);
  });
});
