// The benchmark's scenarios. Each entry names the issue's scenario number; `run` performs the
// timed loads and returns one row per measured variant. Scenarios whose feature lands in a later
// branch have `run: null` and a `pending` note: adding one is writing its `run` (and, for the
// queue-delay one, its own timing), nothing else in the harness changes.
import { readCounters, resetCounters, summariseCounts } from "./counting.mjs";
import { runPaired } from "./load.mjs";
import { httpRequest } from "./workers.mjs";

/** The cursor format of src/http/cursor.ts: base64url(JSON {o: ordering, k: sort key}). */
export function idCursor(id) {
  return Buffer.from(JSON.stringify({ o: "id:asc", k: [id] }), "utf8").toString("base64url");
}

const enc = encodeURIComponent;

/** Equivalent SQL of what each request runs (Drizzle builds the same shapes), for the profile. */
export const TOKEN_SQL = { label: "token by hash", sql: "SELECT * FROM api_tokens WHERE token_hash = ?", args: (ctx) => [ctx.tokenHash] };
const userByIdSql = { label: "user by id", sql: "SELECT * FROM users WHERE tenant_id = ? AND id = ?", args: (ctx, t) => [t.id, t.sample[0].id] };
const listBase = "SELECT * FROM users WHERE tenant_id = ? AND erased_at IS NULL";

/**
 * A timed load of one scenario variant, paired slice by slice with the ceiling. `counts`: the
 * remote calls per request of every request in it (warm-up included), from the counting wrapper
 * the app runs in (bench/counting/).
 */
async function load(ctx, tenant, request, extra = {}) {
  const spec = { worker: ctx.app, host: tenant.host, token: tenant.token, request };
  await resetCounters(ctx.app);
  const paired = await runPaired(spec, ctx.ceilingSpec, { connections: ctx.connections, durationSec: ctx.durationSec, warmupSec: ctx.warmupSec, slices: ctx.slices, ...extra });
  const counts = summariseCounts(await readCounters(ctx.app));
  // `spec` is kept so that targets (and the distance run) can re-run this load.
  return { spec, ...paired, counts };
}

export const SCENARIOS = [
  {
    id: "ref",
    title: "Reference: the ceiling Worker after two sequential no-op D1 round trips (SELECT ?1)",
    phase: "limits-on",
    async run(ctx) {
      const spec = { worker: ctx.ceilingSpec.worker, host: ctx.ceilingSpec.host, request: () => ({ path: "/d1" }) };
      return [
        {
          key: "ref-d1",
          label: "D1 floor: fixed body after 2 no-op D1 queries",
          ...(await runPaired(spec, ctx.ceilingSpec, { connections: ctx.connections, durationSec: ctx.durationSec, warmupSec: ctx.warmupSec, slices: ctx.slices })),
          queries: [],
          note: "what two D1 round trips cost in this runtime, before any of our code",
        },
      ];
    },
  },
  {
    id: "1",
    title: "GET /v1/users/{id}, token auth, rate limiting on (limits raised)",
    phase: "limits-on-fresh",
    async run(ctx) {
      const t = ctx.big;
      return [
        {
          key: "1",
          label: `GET /v1/users/{id} (${ctx.sizeLabel(t)} users)`,
          ...(await load(ctx, t, (i) => ({ path: `/v1/users/${t.sample[i % t.sample.length].id}` }))),
          queries: [TOKEN_SQL, userByIdSql],
        },
        {
          key: "1-small",
          label: `GET /v1/users/{id} (${ctx.sizeLabel(ctx.small)} users, second tenant)`,
          ...(await load(ctx, ctx.small, (i) => ({ path: `/v1/users/${ctx.small.sample[i % ctx.small.sample.length].id}` }))),
          queries: [TOKEN_SQL, { ...userByIdSql, args: (c, _t) => [c.small.id, c.small.sample[0].id] }],
        },
      ];
    },
  },
  {
    id: "2",
    title: "GET /v1/users/{id} with rate limiting switched off (the limiter's cost)",
    phase: "limits-off-fresh",
    async run(ctx) {
      const t = ctx.big;
      return [
        {
          key: "2",
          label: "GET /v1/users/{id}, RATE_LIMIT_ENABLED=false",
          ...(await load(ctx, t, (i) => ({ path: `/v1/users/${t.sample[i % t.sample.length].id}` }))),
          queries: [TOKEN_SQL, userByIdSql],
        },
      ];
    },
  },
  {
    id: "3",
    title: "Lookups by an indexed attribute in the big tenant",
    phase: "limits-on",
    async run(ctx) {
      const t = ctx.big;
      return [
        {
          key: "3-email",
          label: "GET /v1/users?email=…",
          ...(await load(ctx, t, (i) => ({ path: `/v1/users?email=${enc(t.sample[i % t.sample.length].email)}` }))),
          queries: [TOKEN_SQL, { label: "users by email", sql: `${listBase} AND email_lower = ? ORDER BY id LIMIT 101`, args: (_c, tt) => [tt.id, tt.sample[0].email] }],
        },
        {
          key: "3-externalId",
          label: "GET /v1/users?externalId=…",
          ...(await load(ctx, t, (i) => ({ path: `/v1/users?externalId=${enc(t.sample[i % t.sample.length].externalId)}` }))),
          queries: [TOKEN_SQL, { label: "users by externalId", sql: `${listBase} AND external_id = ? ORDER BY id LIMIT 101`, args: (_c, tt) => [tt.id, tt.sample[0].externalId] }],
        },
      ];
    },
  },
  {
    id: "4",
    title: "GET /v1/users?limit=100: first page and deep keyset page",
    phase: "limits-on",
    async run(ctx) {
      const t = ctx.big;
      const cursor = idCursor(t.deep.id);
      // The cursor must be one the API accepts and must land where we think it does.
      const check = await httpRequest(ctx.app.url, { path: `/v1/users?limit=100&cursor=${cursor}`, host: t.host, headers: { authorization: `Bearer ${t.token}` } });
      if (check.status !== 200 || check.json?.data?.[0]?.id !== t.afterDeep.id) {
        throw new Error(`deep cursor check failed: ${check.status} ${check.text.slice(0, 300)}`);
      }
      return [
        {
          key: "4-first",
          label: "GET /v1/users?limit=100 (first page)",
          ...(await load(ctx, t, () => ({ path: "/v1/users?limit=100" }))),
          queries: [TOKEN_SQL, { label: "first page", sql: `${listBase} ORDER BY id LIMIT 101`, args: (_c, tt) => [tt.id] }],
        },
        {
          key: "4-deep",
          label: `GET /v1/users?limit=100&cursor=… (after row ${ctx.fmt(t.deep.index)})`,
          ...(await load(ctx, t, () => ({ path: `/v1/users?limit=100&cursor=${cursor}` }))),
          queries: [TOKEN_SQL, { label: "deep page", sql: `${listBase} AND id > ? ORDER BY id LIMIT 101`, args: (_c, tt) => [tt.id, tt.deep.id] }],
        },
      ];
    },
  },
  {
    id: "5",
    title: "Writes: POST /v1/users (new users) and PATCH /v1/users/{id}",
    phase: "limits-on",
    async run(ctx) {
      const t = ctx.big;
      const run = ctx.runId;
      const post = (i) => ({
        method: "POST",
        path: "/v1/users",
        body: {
          firstName: "Bench",
          lastName: `User ${i}`,
          email: `bench.${run}.${i}@${t.slug}.example.com`,
          externalId: `BENCH-${run}-${i}`,
          department: "Engineering",
          timezone: "Europe/Copenhagen",
          attributes: { costCenter: `CC-${i % 500}`, level: "L2", startDate: "2026-01-05", remote: i % 2 === 0 },
        },
      });
      const patch = (i) => ({ method: "PATCH", path: `/v1/users/${t.sample[i % t.sample.length].id}`, body: { title: `Title ${run}-${i}` } });
      return [
        {
          key: "5-post",
          label: "POST /v1/users",
          ...(await load(ctx, t, post)),
          queries: [TOKEN_SQL, { label: "attribute definitions", sql: "SELECT * FROM attribute_definitions WHERE tenant_id = ?", args: (_c, tt) => [tt.id] }, { label: "email taken?", sql: "SELECT id FROM users WHERE tenant_id = ? AND email_lower = ?", args: (_c, tt) => [tt.id, "nobody@example.com"] }, { label: "externalId taken?", sql: "SELECT id FROM users WHERE tenant_id = ? AND external_id = ?", args: (_c, tt) => [tt.id, "none"] }],
          note: "each request creates a new user (unique email/externalId) plus its outbox event, in one D1 batch",
        },
        {
          key: "5-patch",
          label: "PATCH /v1/users/{id}",
          ...(await load(ctx, t, patch)),
          queries: [TOKEN_SQL, userByIdSql, { label: "attribute definitions", sql: "SELECT * FROM attribute_definitions WHERE tenant_id = ?", args: (_c, tt) => [tt.id] }],
          note: "changes the title of a different sampled user per request; writes the row and its outbox event",
        },
      ];
    },
  },
  {
    id: "6",
    title: "SCIM: GET /scim/v2/Users?filter=userName eq …, GET /scim/v2/Users/{id}, startIndex/count first and deep",
    phase: "limits-on",
    async run(ctx) {
      const t = ctx.big;
      const deepStart = t.deep.index + 2; // 1-based: the row after t.deep
      const check = await httpRequest(ctx.app.url, { path: `/scim/v2/Users?startIndex=${deepStart}&count=1`, host: t.host, headers: { authorization: `Bearer ${t.token}` } });
      if (check.status !== 200 || check.json?.Resources?.[0]?.id !== t.afterDeep.id) {
        throw new Error(`SCIM deep startIndex check failed: ${check.status} ${check.text.slice(0, 300)}`);
      }
      return [
        {
          key: "6-filter",
          label: "SCIM GET /scim/v2/Users?filter=userName eq …",
          ...(await load(ctx, t, (i) => ({ path: `/scim/v2/Users?filter=${enc(`userName eq "${t.sample[i % t.sample.length].email}"`)}` }))),
          queries: [TOKEN_SQL, { label: "users by userName", sql: "SELECT * FROM users WHERE tenant_id = ? AND user_name_lower = ?", args: (_c, tt) => [tt.id, tt.sample[0].email] }],
        },
        {
          key: "6-id",
          label: "SCIM GET /scim/v2/Users/{id}",
          ...(await load(ctx, t, (i) => ({ path: `/scim/v2/Users/${t.sample[i % t.sample.length].id}` }))),
          queries: [TOKEN_SQL, userByIdSql],
        },
        {
          key: "6-first",
          label: "SCIM GET /scim/v2/Users?startIndex=1&count=100",
          ...(await load(ctx, t, () => ({ path: "/scim/v2/Users?startIndex=1&count=100" }))),
          queries: [],
        },
        {
          key: "6-deep",
          label: `SCIM GET /scim/v2/Users?startIndex=${ctx.fmt(deepStart)}&count=100`,
          ...(await load(ctx, t, () => ({ path: `/scim/v2/Users?startIndex=${deepStart}&count=100` }))),
          queries: [],
          note: "SCIM paging is by offset (RFC 7644 startIndex); the Worker walks the offset over rowids",
        },
      ];
    },
  },
  {
    id: "7",
    title: "Bulk invitation of 1,000 users in one request: wall time",
    run: null,
    /** Times whole POST /v1/invitations calls of `ctx.invitationSize` new users (1,000; fewer in smoke). */
    async timed(ctx) {
      const samples = [];
      for (let rep = 0; rep < ctx.timedRepeats; rep++) {
        const users = Array.from({ length: ctx.invitationSize }, (_, i) => ({
          firstName: "Invited",
          lastName: `Person ${rep}-${i}`,
          email: `invite.${ctx.runId}.${rep}.${i}@bench.example`,
          externalId: `INV-${ctx.runId}-${rep}-${i}`,
          department: i % 2 ? "Sales" : "Legal",
        }));
        const started = performance.now();
        const res = await httpRequest(ctx.app.url, { method: "POST", path: "/v1/invitations", host: ctx.big.host, headers: { authorization: `Bearer ${ctx.big.token}` }, body: { users } });
        const ms = performance.now() - started;
        if (res.status !== 200 || res.json?.counts?.created !== users.length) {
          throw new Error(`scenario 7: expected ${users.length} created, got ${res.status} ${JSON.stringify(res.json?.counts ?? res.json)}`);
        }
        samples.push(ms);
      }
      return { key: "7-invite", label: `POST /v1/invitations with ${ctx.invitationSize} new users (tenant of ${ctx.bigUsers} users)`, unit: "ms per request", samples };
    },
  },
  {
    id: "8",
    title: "POST /v1/users to provisioning `completed` (memberships applied by the queue consumer): p50/p99 delay",
    run: null,
    /** Creates users with one group each and polls GET /v1/users/{id} until the consumer is done. */
    async timed(ctx) {
      const auth = { authorization: `Bearer ${ctx.big.token}` };
      const group = await httpRequest(ctx.app.url, { method: "POST", path: "/v1/groups", host: ctx.big.host, headers: auth, body: { name: `bench-group-${ctx.runId}` } });
      if (group.status !== 201) throw new Error(`scenario 8: group create answered ${group.status}`);
      const client = [];
      const server = [];
      // Sample 0 is not recorded: earlier scenarios (thousands of POSTs) leave a queue backlog, and
      // this one waits until the consumer has drained it; its wait is reported separately.
      let backlogMs = 0;
      for (let i = -1; i < ctx.delaySamples; i++) {
        const started = performance.now();
        const body = { firstName: "Queued", lastName: `User ${i}`, email: `queued.${ctx.runId}.${i}@bench.example`, externalId: `Q-${ctx.runId}-${i}`, groups: [group.json.id] };
        const res = await httpRequest(ctx.app.url, { method: "POST", path: "/v1/users", host: ctx.big.host, headers: auth, body });
        if (res.status !== 201) throw new Error(`scenario 8: POST answered ${res.status}`);
        let done = null;
        const maxPolls = i < 0 ? 18_000 : 1000;
        for (let poll = 0; poll < maxPolls && !done; poll++) {
          const got = await httpRequest(ctx.app.url, { path: `/v1/users/${res.json.id}`, host: ctx.big.host, headers: auth });
          if (got.json?.provisioning?.status === "completed") done = got.json;
          else if (got.json?.provisioning?.status === "failed") throw new Error(`scenario 8: provisioning failed: ${JSON.stringify(got.json.provisioning)}`);
          else await new Promise((r) => setTimeout(r, 10));
        }
        if (!done) throw new Error(`scenario 8: provisioning did not complete within ${maxPolls} polls`);
        if (done.memberships?.groups?.[0]?.id !== group.json.id) throw new Error("scenario 8: completed without the group membership");
        if (i < 0) {
          backlogMs = performance.now() - started;
          continue;
        }
        client.push(performance.now() - started);
        server.push(Date.parse(done.provisioning.completedAt) - Date.parse(done.provisioning.requestedAt));
      }
      return [
        { key: "8-client", label: `POST -> GET shows provisioning completed (client side, 10 ms polling; queue backlog of earlier scenarios drained first in ${Math.round(backlogMs)} ms)`, unit: "ms", samples: client },
        { key: "8-server", label: "requestedAt -> completedAt (server side)", unit: "ms", samples: server },
      ];
    },
  },
];

/** For a pending scenario: does the route already answer (i.e. the feature landed, the bench did not)? */
export async function probePending(ctx, scenario) {
  if (!scenario.probe) return null;
  const res = await httpRequest(ctx.app.url, { path: scenario.probe.path, host: ctx.big.host, headers: { authorization: `Bearer ${ctx.big.token}` } });
  return res.json?.code === "route_not_found" ? "route not present" : `route answers ${res.status}: write the scenario`;
}
