/**
 * Benchmark: `GET /scim/v2/Users?filter=userName eq "..."` next to `GET /scim/v2/Users/{id}` in a
 * tenant with SCIM_BENCH_USERS users (default 1,000,000), through the real Worker and local D1.
 * Prints latency percentiles and the query plan; asserts only correctness, never speed.
 *
 * workerd advances its clocks only across I/O, which is where these requests spend their time
 * (D1), so the numbers are the requests' I/O-bound wall time.
 */
import { env, exports } from "cloudflare:workers";
import { and, asc, count, eq, isNull, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { users } from "../../src/db/schema";
import { FilterCompiler } from "../../src/filter/compile";
import { parseScimFilter } from "../../src/filter/parse";
import { userFilterMap } from "../../src/scim/schema";
import { loadAttributeSet } from "../../src/users/attributes";
import { createTenant } from "../../test/helpers";

const USERS = Number((env as unknown as Record<string, string>).SCIM_BENCH_USERS);
const ITERATIONS = Number((env as unknown as Record<string, string>).SCIM_BENCH_ITERATIONS);
const CHUNK = 100_000;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(name: string, samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { name, n: s.length, mean: +mean.toFixed(2), p50: +pct(s, 50).toFixed(2), p95: +pct(s, 95).toFixed(2), p99: +pct(s, 99).toFixed(2), max: +s[s.length - 1]!.toFixed(2) };
}

/** Ids shaped like UUIDv7 text, sortable by n. */
function idOf(n: number): string {
  return `00000000-0000-7000-8000-${n.toString().padStart(12, "0")}`;
}

describe(`SCIM lookups in a tenant with ${USERS.toLocaleString("en")} users`, () => {
  it("seeds, then measures filter-by-userName and get-by-id", async () => {
    const t = await createTenant();
    const now = Date.now();
    const seedStart = performance.now();
    // One statement per chunk, rows generated inside SQLite: no bound parameters, no JS loop.
    for (let from = 1; from <= USERS; from += CHUNK) {
      const to = Math.min(USERS, from + CHUNK - 1);
      await env.DB.prepare(
        `WITH RECURSIVE seq(n) AS (SELECT ${from} UNION ALL SELECT n + 1 FROM seq WHERE n < ${to})
         INSERT INTO users (tenant_id, id, external_id, email, email_lower, first_name, last_name, user_name, user_name_lower, active, attributes, version, created_at, updated_at)
         SELECT '${t.id}', '00000000-0000-7000-8000-' || printf('%012d', n), 'ext-' || n, 'User' || n || '@bench.test', 'user' || n || '@bench.test',
                'Given' || n, 'Family' || n, NULL, 'user' || n || '@bench.test', 1, '{}', 1, ${now}, ${now}
         FROM seq`,
      ).run();
    }
    const seedMs = performance.now() - seedStart;
    const seeded = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(seeded?.n).toBe(USERS);

    const call = (path: string) =>
      exports.default.fetch(new Request(`https://${t.host}/scim/v2${path}`, { headers: { Authorization: `Bearer ${t.token}`, Accept: "application/scim+json" } }));
    const pick = (i: number) => 1 + ((i * 7919 + 13) % USERS);

    const byFilter: number[] = [];
    const byId: number[] = [];
    // Warm-up (tenant cache, attribute definitions, statement cache).
    await call(`/Users/${idOf(1)}`);
    await call(`/Users?filter=${encodeURIComponent('userName eq "user1@bench.test"')}`);
    for (let i = 0; i < ITERATIONS; i++) {
      const n = pick(i);
      let start = performance.now();
      const res = await call(`/Users?filter=${encodeURIComponent(`userName eq "USER${n}@bench.test"`)}`);
      const body = (await res.json()) as { totalResults: number; Resources: { id: string }[] };
      byFilter.push(performance.now() - start);
      expect(body.totalResults).toBe(1);
      expect(body.Resources[0]!.id).toBe(idOf(n));

      start = performance.now();
      const one = await call(`/Users/${idOf(pick(i + 1))}`);
      await one.arrayBuffer();
      byId.push(performance.now() - start);
      expect(one.status).toBe(200);
    }
    // Okta's import pages (offset paging plus a count over the tenant): first page and a deep one.
    const firstPage: number[] = [];
    const deepPage: number[] = [];
    for (let i = 0; i < 10; i++) {
      let start = performance.now();
      await (await call("/Users?startIndex=1&count=100")).arrayBuffer();
      firstPage.push(performance.now() - start);
      start = performance.now();
      const deep = await call(`/Users?startIndex=${Math.max(1, USERS - 1000)}&count=100`);
      const body = (await deep.json()) as { totalResults: number };
      deepPage.push(performance.now() - start);
      expect(body.totalResults).toBe(USERS);
    }

    // The plan of the statement the adapter issues for the filter.
    const db = createDb(env.DB);
    const cond = new FilterCompiler(userFilterMap(await loadAttributeSet(db, t.id))).compile(parseScimFilter('userName eq "user1@bench.test"'));
    const q = db.select().from(users).where(and(eq(users.tenantId, t.id), isNull(users.erasedAt), cond)).orderBy(asc(users.id)).limit(100).toSQL();
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).bind(...q.params).all<{ detail: string }>();
    const live = and(eq(users.tenantId, t.id), isNull(users.erasedAt));
    const pageQ = db.select({ rowid: sql`rowid` }).from(users).where(live).orderBy(asc(users.id)).limit(100).offset(USERS - 1000).toSQL();
    const countQ = db.select({ n: count() }).from(sql`${users} INDEXED BY users_tenant_live_idx`).where(live).toSQL();
    const pagePlan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${pageQ.sql}`).bind(...pageQ.params).all<{ detail: string }>();
    const countPlan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${countQ.sql}`).bind(...countQ.params).all<{ detail: string }>();
    const report = {
      users: USERS,
      seedSeconds: +(seedMs / 1000).toFixed(1),
      plan: plan.results.map((r) => r.detail),
      pagePlan: pagePlan.results.map((r) => r.detail),
      countPlan: countPlan.results.map((r) => r.detail),
      results: [
        summary('GET /Users?filter=userName eq "..."', byFilter),
        summary("GET /Users/{id}", byId),
        summary("GET /Users?startIndex=1&count=100", firstPage),
        summary(`GET /Users?startIndex=${Math.max(1, USERS - 1000)}&count=100`, deepPage),
      ],
    };
    console.log(JSON.stringify(report, null, 2));
  });
});
