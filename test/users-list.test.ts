/** Listing users: keyset paging without gaps or repeats, filters, prefix search, offset paging. */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, newUser, problem, type TestTenant } from "./helpers";

interface Page {
  data: Array<Record<string, any>>;
  pagination: { limit: number; nextCursor: string | null; totalCount?: number; page?: number };
}

let t: TestTenant;
const TOTAL = 230;

/** Seeds users straight through the core's API shape, in parallel chunks to keep the suite quick. */
beforeAll(async () => {
  t = await createTenant();
  for (let i = 0; i < TOTAL; i += 23) {
    await Promise.all(
      Array.from({ length: 23 }, (_, j) => {
        const n = i + j;
        return t.call("/v1/users", {
          body: newUser({
            firstName: n % 10 === 0 ? "Zelda" : "Ada",
            lastName: `Person${String(n).padStart(4, "0")}`,
            email: `person${n}@list.example`,
            externalId: `L-${n}`,
            department: n % 2 === 0 ? "Sales" : "Legal",
          }),
        });
      }),
    );
  }
  // A few deactivated users.
  const some = (await (await t.call("/v1/users?limit=5")).json()) as Page;
  for (const u of some.data) await t.call(`/v1/users/${u.id}`, { method: "DELETE" });
});

async function page(path: string): Promise<Page> {
  const res = await t.call(path);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Page;
}

describe("cursor paging", () => {
  it("walks every user exactly once, in a stable order", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const p = await page(`/v1/users?limit=40${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...p.data.map((u) => u.id as string));
      cursor = p.pagination.nextCursor;
      pages += 1;
    } while (cursor && pages < 20);
    expect(pages).toBe(Math.ceil(TOTAL / 40));
    expect(seen).toHaveLength(TOTAL);
    expect(new Set(seen).size).toBe(TOTAL);
    expect([...seen].sort()).toEqual(seen);
  });

  it("does not skip or repeat when users are created while paging", async () => {
    const first = await page("/v1/users?limit=100");
    const created = (await (await t.call("/v1/users", { body: newUser({ email: "late@list.example", externalId: "late" }) })).json()) as { id: string };
    const rest: string[] = [];
    let cursor = first.pagination.nextCursor;
    while (cursor) {
      const p = await page(`/v1/users?limit=100&cursor=${cursor}`);
      rest.push(...p.data.map((u) => u.id as string));
      cursor = p.pagination.nextCursor;
    }
    const all = [...first.data.map((u) => u.id as string), ...rest];
    expect(new Set(all).size).toBe(all.length);
    expect(all).toContain(created.id);
    await t.call(`/v1/users/${created.id}?erase=true`, { method: "DELETE" });
  });

  it("rejects tampered cursors and cursors of another ordering", async () => {
    const p = await page("/v1/users?limit=10");
    const res = await t.call(`/v1/users?limit=10&cursor=${p.pagination.nextCursor}&updatedSince=2000-01-01T00:00:00Z`);
    expect(res.status).toBe(400);
    expect((await problem(res)).code).toBe("invalid_cursor");
    expect((await t.call("/v1/users?cursor=%%%")).status).toBe(400);
  });

  it("bounds the page size", async () => {
    for (const q of ["limit=0", "limit=1001", "limit=abc", "pageSize=5000", "page=0"]) {
      const res = await t.call(`/v1/users?${q}`);
      expect(res.status, q).toBe(400);
      expect((await problem(res)).code).toBe("invalid_query");
    }
    expect((await page("/v1/users")).data).toHaveLength(100);
  });
});

describe("filters", () => {
  it("filters by email (any case) and externalId", async () => {
    const byEmail = await page("/v1/users?email=PERSON7@List.Example");
    expect(byEmail.data.map((u) => u.externalId)).toEqual(["L-7"]);
    const byExt = await page("/v1/users?externalId=L-8");
    expect(byExt.data.map((u) => u.email)).toEqual(["person8@list.example"]);
    expect((await page("/v1/users?externalId=l-8")).data).toHaveLength(0);
  });

  it("filters by active", async () => {
    const inactive = await page("/v1/users?active=false&limit=1000");
    expect(inactive.data).toHaveLength(5);
    const active = await page("/v1/users?active=true&limit=1000");
    expect(active.data).toHaveLength(TOTAL - 5);
    expect((await t.call("/v1/users?active=maybe")).status).toBe(400);
  });

  it("prefix-searches names and emails with q, ignoring case", async () => {
    const zelda = await page("/v1/users?q=zel&limit=1000");
    expect(zelda.data).toHaveLength(TOTAL / 10);
    const person12 = await page("/v1/users?q=Person0012");
    expect(person12.data.map((u) => u.externalId)).toEqual(["L-12"]);
    const byMail = await page("/v1/users?q=person19");
    expect(byMail.data.map((u) => u.externalId).sort()).toEqual(["L-19", "L-190", "L-191", "L-192", "L-193", "L-194", "L-195", "L-196", "L-197", "L-198", "L-199"].sort());
    expect((await page("/v1/users?q=%25")).data).toHaveLength(0);
  });

  it("lists users changed since a time, in order of change, with its own cursor", async () => {
    const since = new Date().toISOString();
    const target = (await page("/v1/users?externalId=L-100")).data[0]!;
    const target2 = (await page("/v1/users?externalId=L-3")).data[0]!;
    await t.call(`/v1/users/${target.id}`, { method: "PATCH", body: { title: "Changed" } });
    await t.call(`/v1/users/${target2.id}`, { method: "PATCH", body: { title: "Changed too" } });
    const first = await page(`/v1/users?updatedSince=${encodeURIComponent(since)}&limit=1`);
    expect(first.data.map((u) => u.id)).toEqual([target.id]);
    const second = await page(`/v1/users?updatedSince=${encodeURIComponent(since)}&limit=1&cursor=${first.pagination.nextCursor}`);
    expect(second.data.map((u) => u.id)).toEqual([target2.id]);
    expect(second.pagination.nextCursor).toBeNull();
    expect((await t.call("/v1/users?updatedSince=yesterday")).status).toBe(400);
  });

  it("offers page/pageSize with a total for clients that need it", async () => {
    const p2 = await page("/v1/users?page=2&pageSize=50");
    expect(p2.data).toHaveLength(50);
    expect(p2.pagination).toMatchObject({ page: 2, totalCount: TOTAL, limit: 50 });
    const cursorWalk = await page("/v1/users?limit=100");
    expect(p2.data.map((u) => u.id)).toEqual(cursorWalk.data.slice(50, 100).map((u) => u.id));
  });
});

describe("every list query uses an index", () => {
  const queries: Array<[string, string, unknown[]]> = [
    ["first page", "SELECT id FROM users WHERE tenant_id = ? AND erased_at IS NULL ORDER BY id LIMIT 101", ["x"]],
    ["cursor page", "SELECT id FROM users WHERE tenant_id = ? AND erased_at IS NULL AND id > ? ORDER BY id LIMIT 101", ["x", "y"]],
    ["email", "SELECT id FROM users WHERE tenant_id = ? AND erased_at IS NULL AND email_lower = ? ORDER BY id LIMIT 101", ["x", "y"]],
    ["externalId", "SELECT id FROM users WHERE tenant_id = ? AND erased_at IS NULL AND external_id = ? ORDER BY id LIMIT 101", ["x", "y"]],
    ["active", "SELECT id FROM users WHERE tenant_id = ? AND erased_at IS NULL AND active = ? AND id > ? ORDER BY id LIMIT 101", ["x", 1, "y"]],
    ["updatedSince", "SELECT id FROM users WHERE tenant_id = ? AND erased_at IS NULL AND updated_at >= ? ORDER BY updated_at, id LIMIT 101", ["x", 1]],
  ];
  for (const [name, sql, params] of queries) {
    it(name, async () => {
      const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...params).all<{ detail: string }>();
      const details = plan.results.map((r) => r.detail).join(" | ");
      expect(details).toMatch(/USING (COVERING )?INDEX|USING PRIMARY KEY/);
      expect(details).not.toMatch(/^SCAN users$|SCAN users(?! USING)/);
      expect(details).not.toMatch(/TEMP B-TREE/);
    });
  }

  it("the prefix search uses the name and email indexes", async () => {
    const plan = await env.DB.prepare(
      `EXPLAIN QUERY PLAN SELECT users.id FROM (
        SELECT rowid AS rid FROM users WHERE tenant_id = ?1 AND email_lower >= ?2 AND email_lower < ?3
        UNION SELECT rowid FROM users WHERE tenant_id = ?1 AND lower(first_name) >= ?2 AND lower(first_name) < ?3
        UNION SELECT rowid FROM users WHERE tenant_id = ?1 AND lower(last_name) >= ?2 AND lower(last_name) < ?3
        UNION SELECT rowid FROM users WHERE tenant_id = ?1 AND lower(display_name) >= ?2 AND lower(display_name) < ?3
      ) AS m CROSS JOIN users ON users.rowid = m.rid WHERE users.tenant_id = ?1 AND users.erased_at IS NULL ORDER BY users.id LIMIT 101`,
    )
      .bind("x", "a", "b")
      .all<{ detail: string }>();
    const details = plan.results.map((r) => r.detail).join(" | ");
    for (const index of ["users_tenant_email_uq", "users_tenant_first_name_idx", "users_tenant_last_name_idx", "users_tenant_display_name_idx"]) {
      expect(details).toContain(index);
    }
    expect(details).toMatch(/SEARCH users USING INTEGER PRIMARY KEY \(rowid=\?\)/);
    expect(details).not.toMatch(/SCAN users/);
  });
});
