/**
 * Every cause a token can be refused for is named: its catalogue code, its `reason`, a detail that
 * says how to fix it, and a short, header-safe WWW-Authenticate that never echoes the credential.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { diagnoseToken, generateToken, TOKEN_LENGTH } from "../src/auth/tokens";
import { manualClock } from "../src/core/context";
import { request as consoleRequest } from "./console/helpers";
import { call, createTenant, PLATFORM_TOKEN, platform, problem, type TestTenant } from "./helpers";

let t: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  t = await createTenant();
  other = await createTenant();
});

/** The token with the character at `index` replaced by another letter or digit. */
function mistype(token: string, index: number): string {
  const replacement = token[index] === "a" ? "b" : "a";
  return token.slice(0, index) + replacement + token.slice(index + 1);
}

async function refusal(headers: Record<string, string>, path = "/v1/users") {
  const res = await call(t.host, path, { headers });
  expect(res.status).toBe(401);
  const challenge = res.headers.get("WWW-Authenticate") ?? "";
  return { body: await problem(res), challenge };
}

/** A bearer challenge whose description is plain printable ASCII without quotes or backslashes. */
const SAFE_CHALLENGE = /^Bearer realm="api", error="invalid_token", error_description="[ !#-[\]-~]{1,80}"$/;

describe("the format, judged before any lookup", () => {
  it("diagnoses the most basic cause first (unit)", () => {
    const token = generateToken();
    expect(token).toHaveLength(TOKEN_LENGTH);
    expect(diagnoseToken(token)).toBeNull();
    expect(diagnoseToken(`ghp_${token.slice(4)}`)).toEqual({ reason: "wrong_prefix" });
    expect(diagnoseToken(`${token.slice(0, 10)}-${token.slice(11)}`)).toEqual({ reason: "invalid_characters", position: 11 });
    expect(diagnoseToken(token.slice(0, -1))).toEqual({ reason: "wrong_length", length: TOKEN_LENGTH - 1 });
    expect(diagnoseToken(mistype(token, 20))).toEqual({ reason: "checksum_mismatch" });
    expect(diagnoseToken(mistype(token, TOKEN_LENGTH - 1))).toEqual({ reason: "checksum_mismatch" });
  });

  const cases: Array<[string, (tok: string) => Record<string, string>, string, string, RegExp]> = [
    ["no header", () => ({}), "missing_token", "missing_header", /Authorization: Bearer <token>/],
    ["another scheme", (tok) => ({ Authorization: `Basic ${btoa(`user:${tok}`)}` }), "malformed_token", "not_bearer", /uses the 'Basic' scheme/],
    ["an unknown word in the scheme's place", () => ({ Authorization: "s3cr3t-value-here" }), "malformed_token", "not_bearer", /does not start with 'Bearer '/],
    ["a token without the scheme", (tok) => ({ Authorization: tok }), "malformed_token", "bare_token", /without the scheme/],
    ["Bearer and nothing", () => ({ Authorization: "Bearer" }), "malformed_token", "empty_token", /no token follows/],
    ["Bearer twice", (tok) => ({ Authorization: `Bearer Bearer ${tok}` }), "malformed_token", "several_words", /2 words after 'Bearer'/],
    ["another service's token", () => ({ Authorization: "Bearer ghp_16C7e42F292c6912E7710c838347Ae178B4a" }), "malformed_token", "wrong_prefix", /does not start with 'prov_'/],
    ["a quote copied with it", (tok) => ({ Authorization: `Bearer ${tok}"` }), "malformed_token", "invalid_characters", /position 48/],
    ["a character lost", (tok) => ({ Authorization: `Bearer ${tok.slice(0, 30)}${tok.slice(31)}` }), "malformed_token", "wrong_length", /46 characters long.*lost in copying/],
    ["a character added", (tok) => ({ Authorization: `Bearer ${tok}x` }), "malformed_token", "wrong_length", /48 characters long.*added in copying/],
    ["one character mistyped", (tok) => ({ Authorization: `Bearer ${mistype(tok, 25)}` }), "malformed_token", "checksum_mismatch", /checksum does not match: a character was mistyped or lost/],
    ["the platform admin token", () => ({ Authorization: `Bearer ${PLATFORM_TOKEN}` }), "platform_token", "platform_token", /platform admin token; it works on the apex host's \/platform API only/],
  ];
  for (const [name, headers, code, reason, detail] of cases) {
    it(`${name} -> 401 ${code} (${reason})`, async () => {
      const sent = headers(t.token);
      const { body, challenge } = await refusal(sent);
      expect(body.code).toBe(code);
      expect(body.reason).toBe(reason);
      expect(body.detail).toMatch(detail);
      if (reason === "missing_header") expect(challenge).toBe('Bearer realm="api"');
      else expect(challenge).toMatch(SAFE_CHALLENGE);
      // Nothing the client sent comes back: not the token, not the value in the scheme's place.
      const echoed = JSON.stringify(body) + challenge;
      expect(echoed).not.toContain(t.token.slice(5, 20));
      expect(echoed).not.toContain("s3cr3t");
      expect(echoed).not.toContain(PLATFORM_TOKEN);
    });
  }

  it("each cause has its own challenge description", async () => {
    const byReason = new Map<string, Set<string>>();
    for (const [, headers, , reason] of cases.slice(1)) {
      if (!byReason.has(reason)) byReason.set(reason, new Set());
      byReason.get(reason)!.add((await refusal(headers(t.token))).challenge);
    }
    // One description per reason, and no two reasons share one.
    expect([...byReason.values()].every((d) => d.size === 1)).toBe(true);
    expect(new Set([...byReason.values()].flatMap((d) => [...d])).size).toBe(byReason.size);
  });

  it("the platform admin token is refused on SCIM too, in a SCIM error", async () => {
    const res = await call(t.host, "/scim/v2/Users", { token: PLATFORM_TOKEN });
    expect(res.status).toBe(401);
    expect(JSON.stringify(await res.json())).toMatch(/platform admin token/);
  });

  it("a tenant token on the platform API is told apart from a wrong secret", async () => {
    const tenantToken = await platform("/platform/tenants", { token: t.token });
    expect(tenantToken.status).toBe(401);
    expect((await problem(tenantToken)).detail).toMatch(/tenant API token; the platform API needs the platform admin token/);
    const wrong = await platform("/platform/tenants", { token: "not-the-secret" });
    expect((await problem(wrong)).detail).toBe("This is not the platform admin token.");
  });
});

describe("the console's token sign-in", () => {
  it("names the same cause: a mistyped token is told its checksum failed", async () => {
    const res = await consoleRequest(t.host, "/console/sign-in", { form: { token: mistype(t.token, 25) } });
    expect(res.status).toBe(401);
    const page = await res.text();
    expect(page).toContain("a character was mistyped or lost");
    expect(page).not.toContain(t.token.slice(5, 20));
  });
});

describe("the row, judged with the first read", () => {
  it("unknown -> unknown_token (reason unknown)", async () => {
    const { body, challenge } = await refusal({ Authorization: `Bearer ${generateToken()}` });
    expect([body.code, body.reason]).toEqual(["unknown_token", "unknown"]);
    expect(challenge).toMatch(SAFE_CHALLENGE);
  });

  it("another tenant's -> wrong_tenant_token (reason other_tenant)", async () => {
    const { body, challenge } = await refusal({ Authorization: `Bearer ${other.token}` });
    expect([body.code, body.reason]).toEqual(["wrong_tenant_token", "other_tenant"]);
    expect(challenge).toMatch(SAFE_CHALLENGE);
  });

  it("disabled -> disabled_token (reason disabled)", async () => {
    const made = await t.call("/v1/api-tokens", { body: { name: "to disable", scopes: ["users:read"] } });
    const { token, apiToken } = (await made.json()) as { token: string; apiToken: { id: string } };
    expect((await t.call(`/v1/api-tokens/${apiToken.id}`, { method: "DELETE" })).status).toBe(200);
    const { body } = await refusal({ Authorization: `Bearer ${token}` });
    expect([body.code, body.reason]).toEqual(["disabled_token", "disabled"]);
  });

  it("expired -> expired_token (reason expired) once the clock passes expiresAt", async () => {
    const clock = manualClock(Date.now());
    const app = createApp({ clock });
    const expiresAt = new Date(clock.now() + 60_000).toISOString();
    const made = await t.call("/v1/api-tokens", { body: { name: "short-lived", scopes: ["users:read"], expiresAt } });
    const { token } = (await made.json()) as { token: string };
    const send = async () => {
      const ctx = createExecutionContext();
      const res = await app.fetch(new Request(`https://${t.host}/v1/users`, { headers: { Authorization: `Bearer ${token}` } }), env, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    expect((await send()).status).toBe(200);
    clock.advance(60_000);
    const res = await send();
    expect(res.status).toBe(401);
    const body = await problem(res);
    expect([body.code, body.reason]).toEqual(["expired_token", "expired"]);
    expect(body.detail).toContain(expiresAt);
    expect(res.headers.get("WWW-Authenticate")).toMatch(SAFE_CHALLENGE);
  });
});
