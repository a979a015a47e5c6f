/**
 * The request's D1 binding. At the edge every D1 call is a network round trip, so a request's
 * latency is its number of *sequential* calls. This wrapper removes two of them without the
 * handlers having to know:
 *
 * - **The token check rides on the first round trip.** The auth middleware only checks the
 *   token's shape and hashes it; the lookup of its row is prepended to the request's first read
 *   batch (or sent alongside a first `raw()` read, which D1 cannot batch in array mode). The row
 *   is verified before any result is handed back, so a handler never sees data for a bad token.
 * - **The rate-limit decision is awaited before the first write, not before the first read.**
 *   The limiter objects are asked concurrently with the first read; a refusal still wins (the
 *   rate-limit middleware replaces the response), and nothing is ever written for a refused
 *   request.
 *
 * A first call that writes cannot carry the token check (the write would happen before the
 * check), so it verifies the token in a round trip of its own first. Every write path in this
 * service reads before it writes, so that only happens for handlers that write blindly.
 */
import type { ApiError } from "../http/errors";

/** The pending token check: its lookup statement and what to do with the row it returns. */
export interface PendingAuth {
  statement: D1PreparedStatement;
  /** Throws the request's auth error (401/403) when the row does not authorise it. */
  verify(row: Record<string, unknown> | null): void;
}

/** Per-request state the wrapper consults before each call. */
export interface RequestGates {
  auth?: PendingAuth;
  /** The token check in flight, so that concurrent first calls share one lookup. */
  verification?: Promise<void>;
  /** Set once the token was checked: the error it failed with, or null when it passed. */
  authOutcome?: ApiError | null;
  /** Resolves with null when the rate limiter admitted the request, or with the refusal. */
  admission?: Promise<ApiError | null>;
  /**
   * Shards (src/shards/fence.ts): a statement put last in every write batch that fails while the
   * tenant's writes are fenced (a move's cut-over), and how that failure is told to the client.
   * It rides in the write's own batch: no extra round trip, and it holds in every isolate at once.
   */
  writeGuard?: { statement: D1PreparedStatement; refusal(err: unknown): ApiError | null };
  /**
   * Shards with read replicas: the token lookup goes to the primary (its own session) concurrently
   * with the data batch, so a disabled token is refused on the next request even when a replica
   * that has not seen the change serves the data. Same number of sequential round trips.
   */
  authApart?: boolean;
  /** Idempotency-Key (src/rest/idempotency.ts): see IdempotencyGate. */
  idempotency?: IdempotencyGate;
}

/**
 * An Idempotency-Key riding on the request's own round trips, so that a write with a key still
 * costs 2 hops: the key's lookup goes with the first call (prepended to a read batch, or next to
 * the token check before a blind write), and the statements that take the key go last in the
 * first write batch, so the key is taken in the same transaction as the write it describes.
 */
export interface IdempotencyGate {
  /** The binding the statements were prepared on (a request may hold the platform DB and a shard). */
  client: D1Database;
  lookup: D1PreparedStatement;
  /** Judges the stored record, after the token check passed; throws to answer without the handler. */
  check(row: Record<string, unknown> | null): void;
  /** The statements that take the key, appended to the first write batch. */
  take(): D1PreparedStatement[];
  looked?: boolean;
  /** Set when a write batch carrying the key was sent, and once one committed. */
  tried?: boolean;
  taken?: boolean;
}

const WRITE_WORDS = /\b(insert|update|delete|replace|create|drop|alter)\b/i;

/** Conservative: anything not plainly a SELECT (or a WITH ... SELECT) counts as a write. */
export function isReadOnlySql(sql: string): boolean {
  const head = sql.trimStart().slice(0, 6).toLowerCase();
  if (head === "select") return !/\b(insert|update|delete|replace)\b/i.test(sql);
  return head.startsWith("with") && !WRITE_WORDS.test(sql);
}

/**
 * Settles the token check: at once when it already is, by joining one in flight, or with a
 * round trip of its own (only when nothing else can carry it).
 */
export async function verifyPendingAuth(gates: RequestGates): Promise<void> {
  if (gates.authOutcome) throw gates.authOutcome;
  if (gates.verification) return gates.verification;
  const auth = gates.auth;
  if (!auth) return;
  const key = gates.idempotency;
  if (!key || key.looked) return track(gates, auth, auth.statement.first<Record<string, unknown>>());
  // A token check of its own (e.g. a blind write settling its actor): the key's lookup runs next
  // to it, the same hop, and is judged once the token passed. Later calls join both.
  key.looked = true;
  const found = unwrap(key.lookup).first<Record<string, unknown>>();
  const both = Promise.all([track(gates, auth, auth.statement.first<Record<string, unknown>>()), found]).then(([, row]) => key.check(row));
  gates.verification = both;
  both.catch(() => {});
  return both;
}

/** Records `lookup` as the request's token check; resolves when the row was verified. */
function track(gates: RequestGates, auth: PendingAuth, lookup: Promise<Record<string, unknown> | null>): Promise<void> {
  const verification = lookup.then((row) => {
    gates.auth = undefined;
    try {
      auth.verify(row);
      gates.authOutcome = null;
    } catch (err) {
      gates.authOutcome = err as ApiError;
      throw err;
    }
  });
  gates.verification = verification;
  // A caller that joins later sees the outcome; this copy must not count as unhandled.
  verification.catch(() => {});
  return verification;
}

async function beforeWrite(gates: RequestGates): Promise<void> {
  await verifyPendingAuth(gates);
  const refusal = await gates.admission;
  if (refusal) throw refusal;
}

type Inner = D1PreparedStatement;
/** Wrapped statement -> the binding's statement, and every statement -> its SQL text. */
const inner = new WeakMap<object, Inner>();
const sqlText = new WeakMap<object, string>();

function unwrap(stmt: D1PreparedStatement): Inner {
  return inner.get(stmt) ?? stmt;
}

/** The SQL of a statement this wrapper prepared; "" (so: treated as a write) for any other. */
function sqlOf(stmt: Inner): string {
  return sqlText.get(stmt) ?? "";
}

export function gatedD1(d1: D1Database, gates: RequestGates): D1Database {
  /** This binding's Idempotency-Key gate, while it still has a lookup or a take to do. */
  function keyGate(): IdempotencyGate | undefined {
    const gate = gates.idempotency;
    return gate && gate.client === gated ? gate : undefined;
  }

  const firstRow = (result: D1Result | undefined) => ((result?.results ?? [])[0] as Record<string, unknown> | undefined) ?? null;

  /** Runs statements as one batch; the key's lookup rides on the request's first call. */
  async function batch(statements: Inner[]): Promise<D1Result[]> {
    const gate = keyGate();
    if (gate && !gate.looked) {
      gate.looked = true;
      const lookup = unwrap(gate.lookup);
      if (statements.every((s) => isReadOnlySql(sqlOf(s)))) {
        const [found, ...results] = await plainBatch([lookup, ...statements]);
        gate.check(firstRow(found));
        return results;
      }
      // A blind write: the lookup goes first, in the read batch that carries the token check.
      gate.check(firstRow((await plainBatch([lookup]))[0]));
    }
    return plainBatch(statements);
  }

  /** Appends the key's statements to the first write batch; drops their results. */
  async function writeWithKey(statements: Inner[]): Promise<D1Result[]> {
    const gate = keyGate();
    if (!gate || gate.taken) return guardedWrite(statements);
    gate.tried = true;
    const results = await guardedWrite([...statements, ...gate.take().map(unwrap)]);
    gate.taken = true;
    return results.slice(0, statements.length);
  }

  /** Runs statements as one batch, carrying the pending token lookup when they all read. */
  async function plainBatch(statements: Inner[]): Promise<D1Result[]> {
    if (gates.authOutcome) throw gates.authOutcome;
    if (!statements.every((s) => isReadOnlySql(sqlOf(s)))) {
      await beforeWrite(gates);
      return writeWithKey(statements);
    }
    const auth = gates.auth;
    if (!auth || gates.verification || gates.authApart) {
      // Nothing pending, or a concurrent call carries it: join it in the same round trip.
      const [results] = await Promise.all([d1.batch(statements), gates.authApart ? verifyPendingAuth(gates) : gates.verification]);
      return results;
    }
    const sent = d1.batch([auth.statement, ...statements]);
    const verified = track(gates, auth, sent.then(([token]) => (token!.results[0] as Record<string, unknown> | undefined) ?? null));
    const [, ...results] = await sent;
    await verified;
    return results;
  }

  /** A write batch, behind the fence guard when there is one (its result is dropped). */
  async function guardedWrite(statements: Inner[]): Promise<D1Result[]> {
    const guard = gates.writeGuard;
    if (!guard) return d1.batch(statements);
    try {
      // Last in the batch: a batch is one transaction, so the guard failing rolls back every
      // statement before it, and the batch still begins with the handler's own statements.
      return (await d1.batch([...statements, guard.statement])).slice(0, -1);
    } catch (err) {
      throw guard.refusal(err) ?? err;
    }
  }

  function wrapStatement(stmt: Inner, sql: string): D1PreparedStatement {
    sqlText.set(stmt, sql);
    const wrapped: D1PreparedStatement = {
      bind: (...values: unknown[]) => wrapStatement(stmt.bind(...values), sql),
      first: (async (column?: string) => {
        const [result] = await batch([stmt]);
        const row = (result!.results[0] as Record<string, unknown> | undefined) ?? null;
        return column === undefined ? row : row === null ? null : (row[column] ?? null);
      }) as D1PreparedStatement["first"],
      all: (async () => (await batch([stmt]))[0]) as D1PreparedStatement["all"],
      run: (async () => (await batch([stmt]))[0]) as D1PreparedStatement["run"],
      raw: (async (options?: { columnNames?: boolean }) => {
        if (gates.authOutcome) throw gates.authOutcome;
        const gate = keyGate();
        if (!isReadOnlySql(sqlOf(stmt))) {
          if (gate && !gate.looked) {
            // The key is judged before anything is written, next to the token check (one hop).
            gate.looked = true;
            const [found] = await Promise.all([d1.batch([unwrap(gate.lookup)]), beforeWrite(gates)]);
            gate.check(firstRow(found[0]));
          }
          await beforeWrite(gates);
          if (gates.writeGuard || (gate && !gate.taken)) {
            // Guarded writes (and a key to take) must travel in one batch; batches return objects.
            const [result] = await writeWithKey([stmt]);
            const rows = (result!.results ?? []) as Record<string, unknown>[];
            const columns = rows[0] ? Object.keys(rows[0]) : [];
            const values = rows.map((r) => columns.map((k) => r[k]));
            return (options?.columnNames ? [columns, ...values] : values) as never;
          }
          return stmt.raw(options as { columnNames: true });
        }
        // D1 batches return objects, which lose columns of equal names in array mode: send the
        // token lookup concurrently instead (the same round trip in time, one more call).
        if (gate && !gate.looked) {
          gate.looked = true;
          const [, rows, found] = await Promise.all([verifyPendingAuth(gates), stmt.raw(options as { columnNames: true }), d1.batch([unwrap(gate.lookup)])]);
          gate.check(firstRow(found[0]));
          return rows;
        }
        const [, rows] = await Promise.all([verifyPendingAuth(gates), stmt.raw(options as { columnNames: true })]);
        return rows;
      }) as D1PreparedStatement["raw"],
    };
    inner.set(wrapped, stmt);
    return wrapped;
  }

  const gated: D1Database = {
    prepare: (query: string) => wrapStatement(d1.prepare(query), query),
    batch: (async (statements: D1PreparedStatement[]) => batch(statements.map(unwrap))) as D1Database["batch"],
    exec: async (query: string) => {
      await beforeWrite(gates);
      if (gates.writeGuard) throw new Error("exec() cannot carry the shard fence guard; use batch()");
      return d1.exec(query);
    },
    dump: () => d1.dump(),
    withSession: (constraintOrBookmark?: string) => d1.withSession(constraintOrBookmark as D1SessionConstraint),
  } as D1Database;
  return gated;
}
