// Checks the counting wrapper in Node, with fake bindings, before any number of it is trusted:
// the hop arithmetic (tracker.mjs) and the binding proxies (bindings.mjs), including the D1
// Sessions API that src/ does not use yet. bench/run.mjs runs it first; it takes milliseconds.
import { bindingWrappers } from "./bindings.mjs";
import { IsolateStats, RequestTracker, selfTest as trackerSelfTest } from "./tracker.mjs";

const tick = () => new Promise((r) => setTimeout(r, 1));

/** A D1 database (or session) that answers after a tick and remembers what reached it. */
function fakeD1(log) {
  const made = new WeakSet();
  const stmt = (sql, params = []) => remember({
    sql,
    params,
    bind: (...p) => stmt(sql, p),
    first: async () => (await tick(), log.push(`first ${sql}`), null),
    all: async () => (await tick(), log.push(`all ${sql}`), { results: [] }),
    run: async () => (await tick(), log.push(`run ${sql}`), { success: true }),
    raw: async () => (await tick(), log.push(`raw ${sql}`), []),
  });
  const remember = (s) => (made.add(s), s);
  const db = {
    prepare: (sql) => stmt(sql),
    batch: async (stmts) => {
      // The real binding rejects anything but its own statements.
      if (!stmts.every((s) => made.has(s))) throw new Error("batch got statements that are not the binding's own");
      await tick();
      log.push(`batch ${stmts.map((s) => s.sql).join("; ")}`);
      return stmts.map(() => ({ results: [] }));
    },
    exec: async () => (await tick(), { count: 1 }),
    withSession: () => ({ prepare: db.prepare, batch: db.batch, getBookmark: () => "bookmark-1" }),
  };
  return db;
}

export async function selfTest() {
  await trackerSelfTest();
  const stats = new IsolateStats();
  let tracker = null;
  const { wrapEnv } = bindingWrappers({
    delays: { d1: 0, do: 0 },
    begin(kind) {
      const call = tracker.start(kind);
      return { finish: () => tracker.finish(call) };
    },
  });
  const log = [];
  const stubCalls = [];
  const ns = { idFromName: (n) => n, get: (id) => ({ id, hit: async () => (await tick(), stubCalls.push(id), "ok") }), getByName: (n) => ns.get(n) };
  const env = wrapEnv({
    VAR: "x",
    DB: fakeD1(log),
    NS: ns,
    Q: { send: async () => tick(), sendBatch: async () => tick() },
  });
  tracker = new RequestTracker(stats);
  // Two limiter calls in parallel with a D1 read (one hop), then a session batch (a second hop).
  await Promise.all([env.NS.getByName("ip").hit(), env.NS.get("tenant").hit(), env.DB.prepare("SELECT 1").bind(1).first()]);
  const session = env.DB.withSession("first-primary");
  await session.batch([session.prepare("A").bind(1), env.DB.prepare("B")]);
  if (session.getBookmark() !== "bookmark-1") throw new Error("withSession: getBookmark not passed through");
  await env.Q.send({});
  const counts = tracker.close();
  const got = JSON.stringify({ counts, log, stubCalls, VAR: env.VAR });
  const want = JSON.stringify({ counts: { d1: 2, do: 2, queue: 1, hops: 3 }, log: ["first SELECT 1", "batch A; B"], stubCalls: ["ip", "tenant"], VAR: "x" });
  if (got !== want) throw new Error(`counting wrapper self-test: got ${got}, want ${want}`);
}
