/**
 * Webhooks end to end inside workerd: REST -> outbox -> fan-out -> queue -> signed POST (to the
 * stand-in receiver), verified with the `standardwebhooks` package. The retry schedule is walked
 * with a manual clock by calling the delivery step directly: no test waits for time to pass.
 */
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { manualClock } from "../../src/core/context";
import { createDb } from "../../src/db/client";
import { pruneTenant } from "../../src/shards/retention";
import { attemptDelivery, signingSecrets } from "../../src/webhooks/deliver";
import { RETRY_DELAYS_SECONDS } from "../../src/webhooks/schedule";
import { webhookUrlProblem } from "../../src/webhooks/url-policy";
import { createTenant, createUser, problem, type TestTenant } from "../helpers";
import { answers, installReceiver, to } from "./receiver";

beforeAll(installReceiver);

async function register(t: TestTenant, host: string, events = ["*"]) {
  const res = await t.call("/v1/webhooks", { body: { url: `https://${host}/hook`, events, description: "test" } });
  expect(res.status).toBe(201);
  return (await res.json()) as { endpoint: Record<string, any>; secret: string };
}

const waitFor = <T>(fn: () => Promise<T | false | undefined> | T | false | undefined) => vi.waitUntil(fn, { timeout: 15_000, interval: 50 });

async function deliveries(t: TestTenant, endpointId: string) {
  const res = await t.call(`/v1/webhooks/${endpointId}/deliveries`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: Record<string, any>[] }).data;
}

describe("webhook endpoints", () => {
  it("shows the secret once, validates URLs and patterns, needs admin", async () => {
    const t = await createTenant();
    const { endpoint, secret } = await register(t, "crud.example.com", ["user.created", "membership.*"]);
    expect(secret).toMatch(/^whsec_/);
    const got = await t.call(`/v1/webhooks/${endpoint.id}`);
    expect(JSON.stringify(await got.json())).not.toContain(secret);
    const stored = await env.DB.prepare("SELECT secret FROM webhook_endpoints WHERE id = ?").bind(endpoint.id).first<{ secret: string }>();
    expect(stored!.secret).not.toContain(secret.slice(6));
    for (const url of ["http://crud.example.com/x", "https://127.0.0.1/x", "https://localhost/x", "https://[::1]/x", "https://metadata.google.internal/x", "https://2130706433/x", "https://u:p@a.example.com/"]) {
      const res = await t.call("/v1/webhooks", { body: { url, events: ["*"] } });
      expect(res.status, url).toBe(400);
      expect((await problem(res)).errors[0].path).toBe("url");
    }
    const bad = await t.call("/v1/webhooks", { body: { url: "https://a.example.com/", events: ["nope.*"] } });
    expect((await problem(bad)).errors[0].path).toBe("events[0]");
    const patched = await t.call(`/v1/webhooks/${endpoint.id}`, { method: "PATCH", body: { enabled: false } });
    expect(((await patched.json()) as any).disabledReason).toBe("manual");
    expect((await t.call(`/v1/webhooks/${endpoint.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await t.call(`/v1/webhooks/${endpoint.id}`)).status).toBe(404);
  });

  it("local URLs only with WEBHOOK_ALLOW_LOCAL_URLS", () => {
    expect(webhookUrlProblem("http://127.0.0.1:9999/x", true)).toBeNull();
    expect(webhookUrlProblem("http://localhost:9999/x", true)).toBeNull();
    expect(webhookUrlProblem("http://127.0.0.1:9999/x", false)).not.toBeNull();
    expect(webhookUrlProblem("http://10.0.0.1/x", true)).not.toBeNull();
  });
});

describe("delivery", () => {
  it("signs per Standard Webhooks, sends the event as the feed shows it, and keeps tenants apart", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const { endpoint, secret } = await register(a, "a.example.com", ["user.*"]);
    await register(b, "b.example.com", ["user.*"]);
    const user = await createUser(a);
    await createUser(b);
    const got = await waitFor(() => to("a.example.com").find((r) => r.body.includes(user.id)));
    const event = new Webhook(secret).verify(got.body, got.headers) as Record<string, any>;
    expect(event).toMatchObject({ type: "user.created", subjectId: user.id, actor: { kind: "api_token" } });
    expect(got.headers["webhook-id"]).toMatch(/^msg_/);
    await waitFor(() => to("b.example.com").length > 0);
    for (const r of to("a.example.com")) expect(r.body).not.toContain(b.id);
    const list = await deliveries(a, endpoint.id);
    await waitFor(async () => (await deliveries(a, endpoint.id)).some((d) => d.status === "delivered"));
    expect(list.length).toBeGreaterThan(0);
  });

  it("retries on the published schedule with the same webhook-id, then gives up", async () => {
    const t = await createTenant();
    answers.set("fail.example.com", 500);
    const { endpoint } = await register(t, "fail.example.com", ["user.created"]);
    await createUser(t);
    const [first] = await waitFor(async () => {
      const d = await deliveries(t, endpoint.id);
      return d.length > 0 && d[0]!.attempts === 1 ? d : false;
    });
    expect(first!).toMatchObject({ status: "pending", lastResponseStatus: 500, lastError: "HTTP 500" });
    // Far ahead of the wall clock, so the queue's own (real-time) retry finds nothing due.
    const clock = manualClock(Date.now() + 365 * 86400_000);
    const deps = { env, db: createDb(env.DB), clock };
    // The first attempt ran on the wall clock; its failure run starts on the test's clock instead.
    await env.DB.prepare("UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?").bind(clock.now(), endpoint.id).run();
    const gaps: number[] = [];
    for (let i = 1; i < RETRY_DELAYS_SECONDS.length + 1; i++) {
      const before = clock.now();
      const outcome = await attemptDelivery(deps, t.id, first!.id);
      if (outcome.nextAttemptAt) {
        gaps.push((outcome.nextAttemptAt - before) / 1000);
        clock.set(outcome.nextAttemptAt);
      } else expect(outcome.result).toBe("failed");
    }
    RETRY_DELAYS_SECONDS.slice(1).forEach((s, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(s * 0.9);
      expect(gaps[i]).toBeLessThanOrEqual(s * 1.1);
    });
    const [last] = await deliveries(t, endpoint.id);
    expect(last).toMatchObject({ status: "failed", attempts: RETRY_DELAYS_SECONDS.length + 1, nextAttemptAt: null });
    const ids = new Set(to("fail.example.com").map((r) => r.headers["webhook-id"]));
    expect(ids).toEqual(new Set([first!.id]));
    // Redelivery: same id, a fresh schedule; the receiver is back.
    answers.set("fail.example.com", 200);
    const re = await t.call(`/v1/webhooks/${endpoint.id}/deliveries/${first!.id}/redeliver`, { method: "POST" });
    expect(re.status).toBe(202);
    await waitFor(async () => (await deliveries(t, endpoint.id))[0]!.status === "delivered");
  });

  it("five days of nothing but failures disable the endpoint", async () => {
    const t = await createTenant();
    answers.set("down.example.com", 503);
    const { endpoint } = await register(t, "down.example.com", ["user.created"]);
    await createUser(t);
    const [d] = await waitFor(async () => {
      const list = await deliveries(t, endpoint.id);
      return list[0]?.attempts === 1 ? list : false;
    });
    const clock = manualClock(Date.now() + 365 * 86400_000);
    await env.DB.prepare("UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?").bind(clock.now() - 5 * 86400_000, endpoint.id).run();
    expect((await attemptDelivery({ env, db: createDb(env.DB), clock }, t.id, d!.id)).result).toBe("retry");
    const ep = (await (await t.call(`/v1/webhooks/${endpoint.id}`)).json()) as Record<string, any>;
    expect(ep).toMatchObject({ enabled: false, disabledReason: "failing" });
    const feed = (await (await t.call("/v1/events?types=webhook.disabled")).json()) as { data: any[] };
    expect(feed.data[0]).toMatchObject({ subjectId: endpoint.id, data: { reason: "failing" } });
  });

  it("410 Gone disables the endpoint and puts webhook.disabled in the feed", async () => {
    const t = await createTenant();
    answers.set("gone.example.com", 410);
    const { endpoint } = await register(t, "gone.example.com", ["user.created"]);
    await createUser(t);
    await waitFor(async () => ((await (await t.call(`/v1/webhooks/${endpoint.id}`)).json()) as any).disabledReason === "gone");
    const feed = (await (await t.call("/v1/events?types=webhook.disabled")).json()) as { data: any[] };
    expect(feed.data[0]).toMatchObject({ subjectId: endpoint.id, data: { reason: "gone" }, actor: { kind: "system" } });
  });

  it("rotation: both secrets sign for 24 hours, then only the new one", async () => {
    const t = await createTenant();
    const { endpoint, secret: oldSecret } = await register(t, "rotate.example.com", ["webhook.*"]);
    const res = await t.call(`/v1/webhooks/${endpoint.id}/rotate-secret`, { method: "POST" });
    const { secret: newSecret } = (await res.json()) as { secret: string };
    expect(newSecret).not.toBe(oldSecret);
    const test = (await (await t.call(`/v1/webhooks/${endpoint.id}/test`, { method: "POST" })).json()) as { deliveryId: string };
    const got = await waitFor(() => to("rotate.example.com").find((r) => r.headers["webhook-id"] === test.deliveryId));
    expect(got.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(got.body, got.headers)).toMatchObject({ type: "webhook.test" });
    expect(new Webhook(newSecret).verify(got.body, got.headers)).toMatchObject({ type: "webhook.test" });
    const row = await env.DB.prepare("SELECT * FROM webhook_endpoints WHERE id = ?").bind(endpoint.id).first<any>();
    const endpointRow = { ...row, tenantId: row.tenant_id, previousSecret: row.previous_secret, previousSecretExpiresAt: row.previous_secret_expires_at };
    expect(await signingSecrets(env, endpointRow, Date.now() + 23 * 3600_000)).toEqual([newSecret, oldSecret]);
    expect(await signingSecrets(env, endpointRow, Date.now() + 25 * 3600_000)).toEqual([newSecret]);
  });

  it("erasure leaves no personal data in what a redelivery sends", async () => {
    const t = await createTenant();
    const { endpoint } = await register(t, "erase.example.com", ["user.created"]);
    const user = await createUser(t, { email: "erase.me@example.com" });
    await waitFor(async () => (await deliveries(t, endpoint.id)).some((d) => d.status === "delivered"));
    expect((await t.call(`/v1/users/${user.id}?erase=true`, { method: "DELETE" })).status).toBeLessThan(300);
    const [d] = await deliveries(t, endpoint.id);
    const before = to("erase.example.com").length;
    await t.call(`/v1/webhooks/${endpoint.id}/deliveries/${d!.id}/redeliver`, { method: "POST" });
    const again = await waitFor(() => to("erase.example.com").length > before && to("erase.example.com").at(-1));
    expect(again.body).not.toContain("erase.me");
    expect(JSON.parse(again.body).data).toEqual({});
  });

  it("retention deletes ended deliveries with their window and keeps pending ones", async () => {
    const t = await createTenant();
    const { endpoint } = await register(t, "retention.example.com", ["user.*"]);
    await createUser(t);
    await waitFor(async () => (await deliveries(t, endpoint.id)).some((d) => d.status === "delivered"));
    // A pending delivery of the same age stays: its receiver has not answered yet.
    await env.DB.prepare("UPDATE webhook_deliveries SET status = 'pending' WHERE rowid = (SELECT max(rowid) FROM webhook_deliveries WHERE tenant_id = ? AND status = 'delivered')")
      .bind(t.id)
      .run();
    await createUser(t);
    await waitFor(async () => (await deliveries(t, endpoint.id)).filter((d) => d.status === "delivered").length >= 1);
    const total = (await deliveries(t, endpoint.id)).length;
    const kept = await pruneTenant(env.DB, t.id, 7, Date.now() + 6 * 86_400_000);
    expect(kept.deliveries).toBe(0);
    const pruned = await pruneTenant(env.DB, t.id, 7, Date.now() + 8 * 86_400_000);
    expect(pruned.deliveries).toBe(total - 1);
    expect((await deliveries(t, endpoint.id)).map((d) => d.status)).toEqual(["pending"]);
  });
});
