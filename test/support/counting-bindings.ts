/**
 * Counting wrappers for the bindings a request talks to over the network (D1, the rate limiter's
 * Durable Objects, the events queue), and the per-request arithmetic of *sequential* round trips.
 *
 * What is a remote call:
 * - D1: `prepare()` and `bind()` are local; `first/all/run/raw` on a statement, `batch()` (one
 *   call however many statements), `exec()` and `dump()` are calls. `withSession()` returns a
 *   session whose prepare/batch are wrapped the same way (`getBookmark()` is local). A wrapped
 *   statement still answers `.statement` with its SQL.
 * - Durable Objects: `idFromName/idFromString/newUniqueId` are local; `get/getByName` return a
 *   stub whose every method call (RPC or `fetch`) is a call.
 * - Queues: `send/sendBatch` are calls (kind "queue").
 *
 * Hop arithmetic (as bench/counting/tracker.mjs): each call's level is 1 + the highest level
 * among the calls of the request that had completed when it started; calls started together
 * (Promise.all) share a level, and D1 and DO calls share the one arithmetic (a limiter call
 * running next to a D1 batch is the same hop). The request's hops are its highest level. To
 * measure dependencies and not the speed of local bindings, results are delivered in rounds
 * (see RequestCounter).
 *
 * The critical path is from the start of `app.fetch` until it resolves. Calls started after it
 * resolved are background (the rest of `ctx.waitUntil` work) and are not counted; calls still
 * running when it resolved are reported in `inFlight`. Calls started in the same synchronous run
 * as a `ctx.waitUntil(...)` (the usual `ctx.waitUntil(doWork())` shape: `last_used_at`, a limiter
 * refund, the outbox's queue send) are background too, reported in `background`, and never held.
 * A queue send handed to waitUntil completes only once the response is out, so that the D1 update
 * the outbox chains after it (marking the events sent) cannot land on the critical path.
 */

export type CallKind = "d1" | "do" | "queue";

interface Call {
  kind: CallKind;
  /** SQL for D1 statements, "batch(n)" for batches, the method name for DO and queue calls. */
  label: string;
  level: number;
  done: boolean;
  handedOff: boolean;
}

interface Round {
  level: number;
  calls: Call[];
  released: boolean;
  settling: boolean;
  waiters: (() => void)[];
}

export interface CallSummary {
  kind: CallKind;
  label: string;
  level: number;
}

export interface RequestCounts {
  /** Critical-path D1 calls (a batch is one). */
  d1: number;
  /** Critical-path Durable Object calls. */
  do: number;
  /** Critical-path queue calls (expected 0: sends are background). */
  queue: number;
  /** Sequential round trips on the critical path, D1 and DO together. */
  hops: number;
  /** Calls handed to ctx.waitUntil, or started after the response. */
  background: number;
  /** Calls started before the response that had not completed when it was returned. */
  inFlight: CallSummary[];
  /** The critical-path calls, in start order (for failure messages). */
  calls: CallSummary[];
}

/**
 * Event-loop turns a round stays open after its last call completed, for calls that do not
 * depend on its results but start after some local asynchronous step (reading the request body,
 * hashing the token). Counted in turns, not milliseconds: synchronous work, however slow the
 * machine, cannot make a round close early.
 */
export const SETTLE_TURNS = 25;

const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * The remote calls of one HTTP request, and their levels.
 *
 * Locally every binding answers in well under a millisecond, so "completed before it started"
 * would often hold for calls that do not depend on each other at all (a limiter call returns
 * while the request body is still being read). To measure dependencies rather than the test
 * machine's speed, results are delivered in rounds: a call's result is held until every call of
 * its round has completed and the request has had SETTLE_TURNS event-loop turns to start more
 * calls, which then join the round. So a call's level is 1 + the number of rounds delivered
 * before it started: exactly the sequential round trips it needs when each call costs one
 * network latency. Work handed to ctx.waitUntil is never held.
 */
export class RequestCounter {
  private calls: Call[] = [];
  private rounds: Round[] = [];
  private responded = false;
  private late = 0;
  /** Calls started in the current synchronous run (cleared at the next microtask checkpoint). */
  private segment: Call[] | null = null;
  private releaseResponse!: () => void;
  private readonly responseOut = new Promise<void>((resolve) => (this.releaseResponse = resolve));

  /** A call is starting; null once the response is out (then it only counts as background). */
  start(kind: CallKind, label: string): Call | null {
    if (this.responded) {
      this.late += 1;
      return null;
    }
    let round = this.rounds[this.rounds.length - 1];
    if (!round || round.released) {
      round = { level: this.rounds.length + 1, calls: [], released: false, settling: false, waiters: [] };
      this.rounds.push(round);
    }
    const call: Call = { kind, label, level: round.level, done: false, handedOff: false };
    round.calls.push(call);
    this.calls.push(call);
    if (this.segment === null) {
      const segment: Call[] = [];
      this.segment = segment;
      queueMicrotask(() => {
        if (this.segment === segment) this.segment = null;
      });
    }
    this.segment.push(call);
    return call;
  }

  /** The call's real I/O completed; resolves when its result may be delivered. */
  finish(call: Call | null): Promise<void> {
    if (call === null) return Promise.resolve();
    call.done = true;
    // Work handed to waitUntil is never held; queue sends (only ever handed off) wait for the response.
    if (call.handedOff) return call.kind === "queue" ? this.responseOut : Promise.resolve();
    if (this.responded) return Promise.resolve();
    const round = this.rounds[call.level - 1]!;
    const delivered = round.released ? Promise.resolve() : new Promise<void>((resolve) => round.waiters.push(resolve));
    void this.settle(round);
    return delivered;
  }

  private pendingIn(round: Round): boolean {
    return round.calls.some((c) => !c.done && !c.handedOff);
  }

  private async settle(round: Round): Promise<void> {
    if (round.released || round.settling || this.pendingIn(round)) return;
    round.settling = true;
    for (let turn = 0; turn < SETTLE_TURNS; turn++) {
      await nextTurn();
      if (round.released) return;
      if (this.pendingIn(round)) {
        // A call joined the round; its completion settles the round again.
        round.settling = false;
        return;
      }
    }
    this.release(round);
  }

  private release(round: Round): void {
    round.released = true;
    for (const deliver of round.waiters.splice(0)) deliver();
  }

  /** ctx.waitUntil was called: the calls started in this synchronous run feed it. */
  waitUntil(): void {
    if (this.responded || this.segment === null) return;
    for (const call of this.segment) {
      call.handedOff = true;
      // Background work takes no part in the rounds: a round of nothing but background calls
      // must not become a level of its own.
      const round = this.rounds[call.level - 1];
      if (!round) continue;
      round.calls = round.calls.filter((c) => c !== call);
      if (round.calls.length === 0 && !round.released && round === this.rounds[this.rounds.length - 1]) this.rounds.pop();
      // It may have been the last call its round was waiting for.
      else void this.settle(round);
    }
  }

  get isClosed(): boolean {
    return this.responded;
  }

  /** app.fetch resolved: what was on the critical path. Delivers everything still held. */
  close(): RequestCounts {
    if (!this.responded) {
      this.responded = true;
      for (const round of this.rounds) this.release(round);
      this.releaseResponse();
    }
    const counts: RequestCounts = { d1: 0, do: 0, queue: 0, hops: 0, background: this.late, inFlight: [], calls: [] };
    for (const call of this.calls) {
      const summary = { kind: call.kind, label: call.label, level: call.level };
      if (call.handedOff) {
        counts.background += 1;
        continue;
      }
      if (!call.done) {
        counts.inFlight.push(summary);
        continue;
      }
      counts.calls.push(summary);
      counts[call.kind] += 1;
      if (call.level > counts.hops) counts.hops = call.level;
    }
    return counts;
  }
}

/** Runs `invoke` as one counted remote call. `invoke` may throw synchronously (bad SQL). */
function remote<T>(counter: RequestCounter, kind: CallKind, label: string, invoke: () => Promise<T> | T): Promise<T> {
  const call = counter.start(kind, label);
  const p = new Promise<T>((resolve) => resolve(invoke()));
  return p.then(
    async (v) => {
      await counter.finish(call);
      return v;
    },
    async (e: unknown) => {
      await counter.finish(call);
      throw e;
    },
  );
}

const passThrough = (target: object, prop: string | symbol): unknown => {
  const v = Reflect.get(target, prop, target) as unknown;
  return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
};

const oneLine = (sql: string) => sql.replace(/\s+/g, " ").trim().slice(0, 200);

/** A D1Database (or a session) whose calls are counted against `counter`. */
export function countingD1(db: D1Database, counter: RequestCounter): D1Database {
  const realStatement = new WeakMap<object, D1PreparedStatement>();
  const sqlOf = new WeakMap<object, string>();

  function statement(stmt: D1PreparedStatement, sql: string): D1PreparedStatement {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        // The SQL text, whatever the runtime's own statement object exposes.
        if (prop === "statement") return (Reflect.get(target, prop, target) as string | undefined) ?? sql;
        if (prop === "bind") return (...args: unknown[]) => statement(target.bind(...args), sql);
        if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") {
          return (...args: unknown[]) => remote(counter, "d1", oneLine(sql), () => (target[prop] as (...a: unknown[]) => Promise<unknown>)(...args));
        }
        return passThrough(target, prop);
      },
    });
    realStatement.set(proxy, stmt);
    sqlOf.set(proxy, sql);
    return proxy;
  }

  const unwrap = (s: D1PreparedStatement) => realStatement.get(s) ?? s;

  function database<T extends D1Database | D1DatabaseSession>(target: T): T {
    return new Proxy(target, {
      get(t, prop) {
        switch (prop) {
          case "prepare":
            return (query: string) => statement(t.prepare(query), query);
          case "batch":
            return (stmts: D1PreparedStatement[]) => remote(counter, "d1", `batch(${stmts.length}): ${oneLine(stmts.map((x) => sqlOf.get(x) ?? "?").join("; "))}`, () => t.batch(stmts.map(unwrap)));
          case "exec":
            return (query: string) => remote(counter, "d1", `exec ${oneLine(query)}`, () => (t as D1Database).exec(query));
          case "dump":
            return () => remote(counter, "d1", "dump", () => (t as D1Database).dump());
          case "withSession":
            return (constraint?: string) => database((t as D1Database).withSession(constraint as D1SessionConstraint));
          default:
            return passThrough(t, prop);
        }
      },
    }) as T;
  }

  return database(db);
}

/** Properties of a stub that are data or protocol, not remote methods. */
const STUB_DATA = new Set<string | symbol>(["id", "name", "then", "toJSON", "constructor"]);

/** A Durable Object namespace whose stubs' method calls are counted against `counter`. */
export function countingNamespace<T extends Rpc.DurableObjectBranded | undefined>(ns: DurableObjectNamespace<T>, counter: RequestCounter): DurableObjectNamespace<T> {
  function stub(s: object): object {
    return new Proxy(s, {
      get(target, prop) {
        if (typeof prop === "symbol" || STUB_DATA.has(prop)) return Reflect.get(target, prop, target);
        // Called as a method of the real stub: an RPC property has no usable `apply`.
        return (...args: unknown[]) => remote(counter, "do", String(prop), () => (target as Record<string, (...a: unknown[]) => Promise<unknown>>)[prop]!(...args));
      },
    });
  }
  return new Proxy(ns, {
    get(target, prop) {
      if (prop === "get" || prop === "getByName") {
        return (...args: unknown[]) => stub((Reflect.get(target, prop, target) as (...a: unknown[]) => object).apply(target, args));
      }
      if (prop === "jurisdiction") return (...args: unknown[]) => countingNamespace(target.jurisdiction(...(args as [DurableObjectJurisdiction])), counter);
      return passThrough(target, prop);
    },
  });
}

/** A queue whose sends are counted; a send handed to waitUntil completes only once the response is out. */
export function countingQueue<T>(queue: Queue<T>, counter: RequestCounter): Queue<T> {
  return new Proxy(queue, {
    get(target, prop) {
      if (prop === "send" || prop === "sendBatch") {
        return (...args: unknown[]) => remote(counter, "queue", prop, () => (target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[prop]!(...args));
      }
      return passThrough(target, prop);
    },
  });
}

/** `env` with DB, RATE_LIMITER and EVENTS_QUEUE wrapped for `counter`, plus `overrides`. */
export function countingEnv(env: Cloudflare.Env, counter: RequestCounter, overrides: Record<string, string> = {}): Cloudflare.Env {
  return {
    ...env,
    ...overrides,
    DB: countingD1(env.DB, counter),
    RATE_LIMITER: countingNamespace(env.RATE_LIMITER, counter),
    EVENTS_QUEUE: countingQueue(env.EVENTS_QUEUE, counter),
  };
}

/** The execution context, telling `counter` when work is handed to waitUntil. */
export function countingContext(ctx: ExecutionContext, counter: RequestCounter): ExecutionContext {
  return new Proxy(ctx, {
    get(target, prop) {
      if (prop === "waitUntil") {
        return (promise: Promise<unknown>) => {
          counter.waitUntil();
          target.waitUntil(promise);
        };
      }
      return passThrough(target, prop);
    },
  });
}

export interface FetchHandler {
  fetch(request: Request, env: Cloudflare.Env, ctx: ExecutionContext): Response | Promise<Response>;
}

export interface CountedResponse {
  response: Response;
  /** The body, read after the request's background work finished. */
  text: string;
  counts: RequestCounts;
}

/**
 * Runs one request through `app` with counted bindings; measures until `app.fetch` resolves, then
 * waits for the request's waitUntil work so that nothing of it spills into the next request.
 */
export async function countedFetch(
  app: FetchHandler,
  request: Request,
  env: Cloudflare.Env,
  options: { overrides?: Record<string, string>; createContext: () => ExecutionContext; waitOn: (ctx: ExecutionContext) => Promise<void> },
): Promise<CountedResponse> {
  const counter = new RequestCounter();
  const ctx = options.createContext();
  let response: Response;
  let counts!: RequestCounts;
  try {
    response = await app.fetch(request, countingEnv(env, counter, options.overrides), countingContext(ctx, counter));
  } finally {
    // Also when the request threw: held queue calls are released here.
    counts = counter.close();
  }
  const text = await response.text();
  await options.waitOn(ctx);
  return { response, text, counts };
}
