/**
 * A 10,000-member group: a PATCH that adds or removes one member must not read the other members,
 * and excludedAttributes=members must not read any.
 * Proved by counting the rows D1 reports as read (result meta.rows_read) for every statement the
 * PATCH runs, with a control (a full replace) that shows the counter does see member scans. Also: the
 * version guard, with another writer committing between a request's read and its batch.
 */
import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import type { AppEnv } from "../../src/env";
import { groupRoutes } from "../../src/scim/group-routes";
import { beforeAll, describe, expect, it } from "vitest";
import * as schema from "../../src/db/schema";
import type { Db } from "../../src/env";
import { systemClock, type CoreContext } from "../../src/core/context";
import { planFromPatch, writeGroup } from "../../src/scim/groups";
import { parsePatchBody } from "../../src/scim/patch-parse";
import { createTenant, type TestTenant } from "../helpers";
import { GROUP, patch, scim, scimBody } from "./helpers";

const MEMBERS = 10_000;

interface Counter {
  rowsRead: number;
  statements: number;
}

/**
 * The real D1 binding, with every statement's meta.rows_read added up. raw() (which Drizzle uses
 * for selects) carries no meta, so those statements are also run once through all() for it.
 */
function countingD1(d1: D1Database, counter: Counter): D1Database {
  const originals = new WeakMap<object, D1PreparedStatement>();
  const record = (meta: D1Meta) => {
    counter.rowsRead += meta.rows_read ?? 0;
    counter.statements += 1;
  };
  const wrap = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        if (prop === "bind") return (...args: unknown[]) => wrap(target.bind(...args));
        if (prop === "all" || prop === "run") {
          return async () => {
            const r = await target[prop]();
            record(r.meta);
            return r;
          };
        }
        if (prop === "raw" || prop === "first") {
          return async (...args: unknown[]) => {
            record((await target.all()).meta);
            return (target[prop] as (...a: unknown[]) => unknown)(...args);
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    originals.set(proxy, stmt);
    return proxy;
  };
  return new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare") return (q: string) => wrap(target.prepare(q));
      if (prop === "batch") {
        return async (stmts: D1PreparedStatement[]) => {
          const results = await target.batch(stmts.map((s) => originals.get(s) ?? s));
          for (const r of results) record(r.meta);
          return results;
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

describe("a 10,000-member group", () => {
  let t: TestTenant;
  let gid: string;
  const userId = (n: number) => `bulk-${String(n).padStart(5, "0")}`;

  beforeAll(async () => {
    t = await createTenant();
    const now = Date.now();
    // 10,001 users in one statement (the last one is not a member yet).
    await env.DB.prepare(
      `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
       INSERT INTO users (tenant_id, id, external_id, email, email_lower, first_name, last_name, user_name_lower, created_at, updated_at)
       SELECT ?, printf('bulk-%05d', n), printf('ext-%05d', n), printf('bulk%05d@example.com', n), printf('bulk%05d@example.com', n),
              'Bulk', printf('User %05d', n), printf('bulk%05d@example.com', n), ?, ? FROM seq`,
    )
      .bind(MEMBERS + 1, t.id, now, now)
      .run();
    // The group and its 10,000 members arrive in one SCIM POST (as Okta's AIW group push sends them).
    const members = Array.from({ length: MEMBERS }, (_, i) => ({ value: userId(i + 1) }));
    const res = await scim(t, "/Groups?excludedAttributes=members", { method: "POST", body: { schemas: [GROUP], displayName: "Everyone", members } });
    expect(res.status).toBe(201);
    gid = (await res.json() as any).id;
  }, 120_000);

  function counted(): { counter: Counter; ctx: CoreContext } {
    const counter: Counter = { rowsRead: 0, statements: 0 };
    return { counter, ctx: { db: drizzle(countingD1(env.DB, counter), { schema }) as unknown as Db, tenantId: t.id, clock: systemClock } };
  }

  async function countMembers(): Promise<number> {
    const row = await env.DB.prepare("SELECT count(*) AS n FROM memberships WHERE tenant_id = ? AND collection_id = ? AND ended_at IS NULL").bind(t.id, gid).first<{ n: number }>();
    return row!.n;
  }

  it("holds all 10,000 members, and GET returns them all", async () => {
    expect(await countMembers()).toBe(MEMBERS);
    const g = await scimBody(await scim(t, `/Groups/${gid}`));
    expect(g.members).toHaveLength(MEMBERS);
    expect(g.members[0]).toMatchObject({ value: userId(1), display: "Bulk User 00001", type: "User" });
  });

  it("adding one member reads a handful of rows, not the 10,000 members", async () => {
    const { counter, ctx } = counted();
    const ops = parsePatchBody(patch({ op: "Add", path: "members", value: [{ value: userId(MEMBERS + 1) }] }));
    await writeGroup(ctx, gid, () => planFromPatch(ops, gid));
    expect(await countMembers()).toBe(MEMBERS + 1);
    expect(counter.statements).toBeGreaterThan(0);
    expect(counter.rowsRead).toBeLessThan(50);
  });

  it("removing one member by filter, and Entra's remove with a value list, read a handful of rows", async () => {
    for (const body of [
      patch({ op: "remove", path: `members[value eq "${userId(MEMBERS + 1)}"]` }),
      patch({ op: "Remove", path: "members", value: [{ $ref: null, value: userId(5000) }] }),
    ]) {
      const { counter, ctx } = counted();
      await writeGroup(ctx, gid, () => planFromPatch(parsePatchBody(body), gid));
    expect(counter.rowsRead).toBeLessThan(50);
    }
    expect(await countMembers()).toBe(MEMBERS - 1);
  });

  it("the same PATCH over HTTP answers 204 and shows in /v1", async () => {
    const res = await scim(t, `/Groups/${gid}`, { method: "PATCH", body: patch({ op: "add", path: "members", value: [{ value: userId(5000) }] }) });
    expect(res.status).toBe(204);
    expect(await countMembers()).toBe(MEMBERS);
    const page = (await (await t.call(`/v1/groups/${gid}/members?limit=100`)).json()) as any;
    expect(page.data).toHaveLength(100);
  });

  /** The real /Groups handlers over the counting binding (tenancy and auth are not what is measured). */
  async function countedGet(path: string): Promise<{ counter: Counter; body: any }> {
    const { counter, ctx } = counted();
    const app = new Hono<AppEnv>();
    app.use("*", async (c, next) => {
      c.set("db", ctx.db);
      c.set("tenant", { id: t.id } as never);
      await next();
    });
    app.route("/scim/v2", groupRoutes);
    const res = await app.request(`https://${t.host}/scim/v2${path}`);
    expect(res.status).toBe(200);
    return { counter, body: await res.json() };
  }

  it("excludedAttributes=members never reads the members; without it, they are read", async () => {
    const lean = await countedGet(`/Groups/${gid}?excludedAttributes=members`);
    expect(lean.body).not.toHaveProperty("members");
    expect(lean.counter.rowsRead).toBeLessThan(10);
    const filtered = await countedGet(`/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "Everyone"')}`);
    expect(filtered.body.totalResults).toBe(1);
    expect(filtered.counter.rowsRead).toBeLessThan(20);
    const full = await countedGet(`/Groups/${gid}`);
    expect(full.body.members).toHaveLength(MEMBERS);
    expect(full.counter.rowsRead).toBeGreaterThanOrEqual(MEMBERS);
  });

  it("control: replacing all members does read every member, so the counter sees member scans", async () => {
    const { counter, ctx } = counted();
    const all = Array.from({ length: MEMBERS }, (_, i) => ({ value: userId(i + 1) }));
    await writeGroup(ctx, gid, () => planFromPatch(parsePatchBody(patch({ op: "replace", path: "members", value: all })), gid));
    expect(await countMembers()).toBe(MEMBERS);
    expect(counter.rowsRead).toBeGreaterThanOrEqual(MEMBERS);
  }, 60_000);
});

describe("the version guard makes a group write all or nothing", () => {
  /** env.DB, except that another writer commits a change to the group right before the first batch. */
  function racingD1(tenantId: string, groupId: string): D1Database {
    let raced = false;
    return new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "batch") {
          return async (stmts: D1PreparedStatement[]) => {
            if (!raced) {
              raced = true;
              await target.prepare("UPDATE collections SET updated_at = updated_at + 1 WHERE tenant_id = ? AND id = ?").bind(tenantId, groupId).run();
            }
            return target.batch(stmts);
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  }

  it("a write that lost the race applies nothing; with If-Match it is 412, without it re-applies once", async () => {
    const t = await createTenant();
    const [a, b] = await Promise.all([
      scim(t, "/Users", { method: "POST", body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: `race-a-${Date.now()}@example.com`, name: { givenName: "A", familyName: "A" } } }).then((r) => r.json() as Promise<any>),
      scim(t, "/Users", { method: "POST", body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: `race-b-${Date.now()}@example.com`, name: { givenName: "B", familyName: "B" } } }).then((r) => r.json() as Promise<any>),
    ]);
    const created = await scim(t, "/Groups", { method: "POST", body: { schemas: [GROUP], displayName: "race", members: [{ value: a.id }] } });
    const gid = ((await created.json()) as any).id as string;
    const ops = parsePatchBody(patch({ op: "replace", path: "displayName", value: "race 2" }, { op: "remove", path: "members" }, { op: "add", path: "members", value: [{ value: b.id }] }));
    const events = async () =>
      (await env.DB.prepare("SELECT type, subject_id FROM events WHERE tenant_id = ? AND type LIKE 'membership.%' ORDER BY seq").bind(t.id).all<any>()).results;
    const before = await events();

    // Pinned to the version it read: the other writer wins, this request changes nothing.
    const pinnedCtx = { db: drizzle(racingD1(t.id, gid), { schema }) as unknown as Db, tenantId: t.id, clock: systemClock };
    await expect(writeGroup(pinnedCtx, gid, () => planFromPatch(ops, gid), (row) => row.updatedAt)).rejects.toMatchObject({ code: "precondition_failed" });
    const unchanged = await scimBody(await scim(t, `/Groups/${gid}`));
    expect(unchanged.displayName).toBe("race");
    expect(unchanged.members.map((m: any) => m.value)).toEqual([a.id]);
    expect(await events()).toEqual(before);

    // Not pinned: the lost attempt applied nothing, the retry applied everything once.
    const ctx = { db: drizzle(racingD1(t.id, gid), { schema }) as unknown as Db, tenantId: t.id, clock: systemClock };
    await writeGroup(ctx, gid, () => planFromPatch(ops, gid));
    const after = await scimBody(await scim(t, `/Groups/${gid}`));
    expect(after.displayName).toBe("race 2");
    expect(after.members.map((m: any) => m.value)).toEqual([b.id]);
    expect((await events()).slice(before.length)).toEqual([
      { type: "membership.removed", subject_id: a.id },
      { type: "membership.added", subject_id: b.id },
    ]);
  });
});
