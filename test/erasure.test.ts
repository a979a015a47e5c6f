/**
 * Erasure reaches every copy (issue 12, finding 5): after `DELETE /v1/users/{id}?erase=true` no
 * API answer, Idempotency-Key replay, feed entry or stored record carries the person's data. The
 * last check greps every text column of every table of the database for each erased value.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { createTenant, createUser, newUser, problem, type TestTenant } from "./helpers";
import { scim } from "./scim/helpers";

let t: TestTenant;
let person: Record<string, any>;
let invitee: { userId: string; email: string };
let key: string;
let secrets: string[];

/**
 * Waits until the queue has processed every event about `subjects` (events made in SQL for other
 * users, like a report's manager change on erasure, wait for the scheduled sweep: not waited for).
 */
async function drained(tenantId: string, subjects: string[]) {
  await vi.waitUntil(
    async () => {
      const row = await env.DB.prepare(`SELECT count(*) AS n FROM events WHERE tenant_id = ? AND status IN ('pending','sent') AND subject_id IN (${subjects.map(() => "?").join(",")})`)
        .bind(tenantId, ...subjects)
        .first<{ n: number }>();
      return row?.n === 0;
    },
    { timeout: 15_000, interval: 50 },
  );
}

/** Every (table, column, rowid) whose text holds `value`. */
async function occurrences(value: string): Promise<string[]> {
  const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'").all<{ name: string }>();
  const found: string[] = [];
  for (const { name } of tables.results) {
    const columns = await env.DB.prepare(`PRAGMA table_info("${name}")`).all<{ name: string; type: string }>();
    for (const col of columns.results) {
      // Every column, whatever its declared type: SQLite stores what it is given.
      const hit = await env.DB.prepare(`SELECT count(*) AS n FROM "${name}" WHERE instr(lower(CAST("${col.name}" AS TEXT)), lower(?)) > 0`).bind(value).first<{ n: number }>();
      if (hit && hit.n > 0) found.push(`${name}.${col.name} (${hit.n})`);
    }
  }
  return found;
}

beforeAll(async () => {
  t = await createTenant();
  const n = crypto.randomUUID().slice(0, 8);
  expect((await t.call("/v1/available-attributes", { body: { key: "nickname", label: "Nickname", type: "string" } })).status).toBe(201);
  const group = (await (await t.call("/v1/groups", { body: { name: `Erasure ${n}` } })).json()) as { id: string };
  key = `erase-${n}`;
  const body = newUser({
    firstName: `Zephyrine${n}`,
    lastName: `Quillfeather${n}`,
    email: `zephyrine.${n}@erasure.example`,
    externalId: `HR-ERASE-${n}`,
    phone: `+45 5550 ${n}`,
    title: `Keeper of secrets ${n}`,
    employeeNumber: `EMP-${n}`,
    attributes: { nickname: `Zephy${n}` },
    // An unknown group: the consumer records a provisioning error naming it.
    groups: [group.id, `missing-${n}`],
  });
  const created = await t.call("/v1/users", { body, headers: { "Idempotency-Key": key } });
  expect(created.status).toBe(201);
  person = (await created.json()) as Record<string, any>;
  // A report names the person as manager; a SCIM change and a membership add more events.
  await createUser(t, { managerId: person.id });
  expect((await t.call(`/v1/users/${person.id}`, { method: "PATCH", body: { department: `Dept ${n}` } })).status).toBe(200);
  expect((await t.call(`/v1/groups/${group.id}/members`, { body: { userIds: [person.id] } })).status).toBeLessThan(300);
  // An invited person: an invitation row with the email and invitation.* events.
  const invited = newUser({ firstName: `Inviteeka${n}`, email: `inviteeka.${n}@erasure.example` });
  const inv = (await (await t.call("/v1/invitations", { body: { users: [invited], sendEmail: true } })).json()) as { results: Array<{ userId: string }> };
  invitee = { userId: inv.results[0]!.userId, email: invited.email as string };
  await drained(t.id, [person.id, invitee.userId]);
  secrets = [body.firstName, body.lastName, body.email, body.externalId, body.phone, body.title, body.employeeNumber, `Zephy${n}`, `Dept ${n}`, invited.firstName, invited.email].map(String);

  expect((await t.call(`/v1/users/${person.id}?erase=true`, { method: "DELETE" })).status).toBe(200);
  expect((await t.call(`/v1/users/${invitee.userId}?erase=true`, { method: "DELETE" })).status).toBe(200);
  await drained(t.id, [person.id, invitee.userId]);
});

describe("after erasure", () => {
  it("replaying the original Idempotency-Key is a 410 without the data, and creates nobody", async () => {
    const res = await t.call("/v1/users", { body: newUser(), headers: { "Idempotency-Key": key } });
    // A different body with the key is still a 422 (the fingerprint is kept, the response is not).
    expect(res.status).toBe(422);
    const row = await env.DB.prepare("SELECT status, body FROM idempotency_keys WHERE tenant_id = ? AND key = ?").bind(t.id, key).first<{ status: number; body: string }>();
    expect(row).toEqual({ status: 410, body: "" });
  });

  it("the API answers carry none of it: user, list, feed, invitations, SCIM", async () => {
    const answers = await Promise.all([
      t.call(`/v1/users/${person.id}`),
      t.call("/v1/users?limit=1000"),
      t.call("/v1/events?limit=1000"),
      t.call("/v1/invitations?limit=1000"),
      scim(t, "/Users?count=1000"),
    ]);
    expect(answers[0]!.status).toBe(410);
    for (const res of answers) {
      const text = (await res.text()).toLowerCase();
      for (const value of secrets) expect(text, `${res.url} carries ${value}`).not.toContain(value.toLowerCase());
    }
  });

  it("the invitation is revoked with its email emptied", async () => {
    const row = await env.DB.prepare("SELECT email, status FROM invitations WHERE tenant_id = ? AND user_id = ?").bind(t.id, invitee.userId).first();
    expect(row).toEqual({ email: "", status: "revoked" });
  });

  it("no table and no column of the database holds any erased value", async () => {
    for (const value of secrets) expect(await occurrences(value), value).toEqual([]);
  });
});

describe("the stored replay", () => {
  it("answers the exact original request with 410 user_erased as problem+json", async () => {
    const t2 = await createTenant();
    const body = newUser();
    const k = crypto.randomUUID();
    const first = (await (await t2.call("/v1/users", { body, headers: { "Idempotency-Key": k } })).json()) as { id: string };
    expect((await t2.call(`/v1/users/${first.id}?erase=true`, { method: "DELETE" })).status).toBe(200);
    const replay = await t2.call("/v1/users", { body, headers: { "Idempotency-Key": k } });
    expect(replay.status).toBe(410);
    const p = await problem(replay);
    expect(p.code).toBe("user_erased");
    expect(JSON.stringify(p)).not.toContain(String(body.email));
    const count = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE tenant_id = ?").bind(t2.id).first<{ n: number }>();
    expect(count?.n).toBe(1);
  });
});
