// Counting (and optionally delaying) proxies around the Worker's bindings. Generic over the
// binding interfaces, not over how src/ uses them: any D1 database, Durable Object namespace or
// queue in `env` is recognised by its shape and wrapped, whatever its name.
//
// - D1: `prepare()` and `bind()` are local; `first/all/run/raw` on a statement, `batch()` (one
//   call, however many statements), `exec()` and `dump()` are remote calls. `withSession()`
//   returns a session (prepare/batch/getBookmark) wrapped the same way.
// - Durable Objects: `get/getByName` are local and return a wrapped stub; every method called on
//   the stub (RPC, or `fetch`) is a remote call. RPC promise pipelining (`stub.a.b()`) is not
//   supported through the wrapper; src/ does not use it.
// - Queues: `send/sendBatch` are remote calls (never delayed).
//
// Native binding objects check `this`, so every passed-through method is bound to the real object.

/**
 * @param {object} hooks
 * @param {(kind: "d1" | "do" | "queue") => { finish(): void }} hooks.begin  starts counting one call
 * @param {{ d1: number, do: number }} hooks.delays  ms added before every call of the kind
 */
export function bindingWrappers({ begin, delays }) {
  const realStatement = new WeakMap();

  /** Runs `invoke` as one counted remote call, after the configured delay. */
  function remote(kind, invoke) {
    const call = begin(kind);
    const ms = delays[kind] ?? 0;
    // `invoke` may throw synchronously (bad SQL): that must still end the call.
    const p = ms > 0 ? new Promise((r) => setTimeout(r, ms)).then(invoke) : new Promise((r) => r(invoke()));
    return p.then(
      (v) => (call.finish(), v),
      (e) => {
        call.finish();
        throw e;
      },
    );
  }

  const passThrough = (target, prop) => {
    const v = Reflect.get(target, prop, target);
    return typeof v === "function" ? v.bind(target) : v;
  };

  function statement(stmt) {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        if (prop === "bind") return (...args) => statement(target.bind(...args));
        if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") return (...args) => remote("d1", () => target[prop](...args));
        return passThrough(target, prop);
      },
    });
    realStatement.set(proxy, stmt);
    return proxy;
  }

  /** A D1Database or a D1DatabaseSession: the same calls, plus withSession / getBookmark. */
  function d1(db) {
    return new Proxy(db, {
      get(target, prop) {
        switch (prop) {
          case "prepare":
            return (...args) => statement(target.prepare(...args));
          case "batch":
            // The real batch() needs the real statements.
            return (stmts, ...rest) => remote("d1", () => target.batch(stmts.map((s) => realStatement.get(s) ?? s), ...rest));
          case "exec":
          case "dump":
            return (...args) => remote("d1", () => target[prop](...args));
          case "withSession":
            return (...args) => d1(target.withSession(...args));
          default:
            return passThrough(target, prop);
        }
      },
    });
  }

  // Properties of a stub that are data or protocol, not remote methods.
  const STUB_DATA = new Set(["id", "name", "then", "toJSON", "constructor"]);
  function stub(s) {
    return new Proxy(s, {
      get(target, prop) {
        if (typeof prop === "symbol" || STUB_DATA.has(prop)) return Reflect.get(target, prop, target);
        return (...args) => remote("do", () => target[prop](...args));
      },
    });
  }

  function namespace(ns) {
    return new Proxy(ns, {
      get(target, prop) {
        if (prop === "get" || prop === "getByName") return (...args) => stub(target[prop](...args));
        if (prop === "jurisdiction") return (...args) => namespace(target.jurisdiction(...args));
        return passThrough(target, prop);
      },
    });
  }

  function queue(q) {
    return new Proxy(q, {
      get(target, prop) {
        if (prop === "send" || prop === "sendBatch") return (...args) => remote("queue", () => target[prop](...args));
        return passThrough(target, prop);
      },
    });
  }

  const has = (v, ...methods) => v !== null && typeof v === "object" && methods.every((m) => typeof v[m] === "function");

  /** A copy of `env` with every D1 database, DO namespace and queue wrapped. */
  function wrapEnv(env) {
    const out = { ...env };
    for (const [name, value] of Object.entries(env)) {
      if (has(value, "prepare", "batch", "exec")) out[name] = d1(value);
      else if (has(value, "idFromName", "get")) out[name] = namespace(value);
      else if (has(value, "send", "sendBatch")) out[name] = queue(value);
    }
    return out;
  }

  return { wrapEnv };
}
