/**
 * Idempotency-Key on every POST that creates something (REST /v1 and /platform), in one place:
 * `idempotent()` is a route middleware (declared in each route contract next to
 * `IdempotencyKeyHeader`), so no handler repeats the dance.
 *
 * - The key's stored record is looked up on the request's first D1 round trip and its claim is
 *   written last in the request's first write batch (core/request-db.ts, IdempotencyGate): a write
 *   with a key still costs 2 hops, and the key is taken in the same transaction as the write, so a
 *   racing retry's write fails as a whole and that retry answers from the record instead.
 * - The record then holds the response (status, body, headers). A handler that knows its response
 *   before writing (POST /v1/users) stores it in that same batch (`respondInBatch`); otherwise the
 *   response is filled into the claimed record right after it is sent (off the critical path), and
 *   a retry arriving in that instant is told to retry (409 idempotency_key_in_use, Retry-After: 1).
 * - A replay answers the original status, body and headers (Location, ETag, ...) with
 *   `Idempotent-Replayed: true`; X-Request-Id and the rate-limit headers are the retry's own.
 * - Secrets are never stored: for routes whose response carries a freshly issued secret (an API
 *   token, a new tenant's first token, a webhook signing secret, a console link) only the status and
 *   headers are kept, and a replay is 409 `secret_not_replayed` pointing at the created resource.
 * - Only successful (2xx) responses are kept, for 24 hours: a failed request can be fixed and
 *   retried under the same key. The same key with another body or endpoint is 422.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { IdempotencyGate } from "../core/request-db";
import type { AppEnv, Db } from "../env";
import { ApiError } from "../http/errors";
import { sha256Hex } from "../lib/crypto";
import { problemResponse } from "./openapi";
import { ERASED_RESPONSE_STATUS } from "../users/erase-copies";

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
const KEY_PATTERN = "^[\\x21-\\x7e]{1,255}$";
/** Visible ASCII, 1-255 characters; also the header's pattern in the OpenAPI document (src/openapi/parameters.ts). */
export const KEY_RE = new RegExp(KEY_PATTERN);
/** A claim with no response after this long belongs to a request that died after its write. */
const ORPHAN_AFTER_MS = 60_000;

/** The header in every creating route's contract (one schema, so the documented pattern is the enforced one). */
export const IdempotencyKeyHeader = z.object({
  "idempotency-key": z
    .string()
    .regex(KEY_RE)
    .optional()
    .openapi({
      description:
        "Makes retries safe: 1-255 visible ASCII characters (e.g. a UUID), unique per request. A retry with the same key and body " +
        "replays the first successful response (same status, body, Location and ETag, plus `Idempotent-Replayed: true`) and creates " +
        "nothing; the same key with another body is 422. Kept for 24 hours.",
      example: "5f0c9a3e-2b7d-4d61-9a43-8f1e2c7b6d10",
    }),
});

/** Headers that belong to the retry, not to the stored response. */
const NOT_REPLAYED = /^(x-request-id|ratelimit|ratelimit-policy|x-ratelimit-.*|retry-after|content-length|x-d1-bookmark|set-cookie|date|vary)$/i;

export interface StoredResponse {
  status: number;
  body: string;
  location: string | null;
  /** JSON object of the replayed headers; null on records older than the column. */
  headers: string | null;
}

/** JSON with object keys sorted, so that key order does not change the request fingerprint. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export function checkIdempotencyKey(key: string): string {
  if (!KEY_RE.test(key)) {
    const message = "must be 1-255 visible ASCII characters (no spaces), e.g. a UUID such as 5f0c9a3e-2b7d-4d61-9a43-8f1e2c7b6d10";
    throw new ApiError("invalid_header", `Idempotency-Key: ${message}.`, { errors: [{ path: "Idempotency-Key", message }] });
  }
  return key;
}

export function fingerprint(method: string, path: string, body: unknown): Promise<string> {
  return sha256Hex(`${method} ${path}\n${stableJson(body)}`);
}

/** Where a request's keys live: per tenant, or (the platform API, which acts for no tenant) platform-wide. */
interface KeyStore {
  db: Db;
  lookup(key: string): D1PreparedStatement;
  /** The claim: deletes an expired record of the key, then inserts (fails on a live one). */
  take(key: string, hash: string, now: number, response: StoredResponse | null): D1PreparedStatement[];
  fill(key: string, hash: string, response: StoredResponse): D1PreparedStatement;
  release(key: string, hash: string): D1PreparedStatement;
}

function keyStore(c: Context<AppEnv>): KeyStore {
  const db = c.get("db");
  const tenant = c.get("tenant");
  const client = db.$client;
  // Raw SQL over the two tables of src/db/schema/requests.ts: their columns are the same but the key.
  const [table, keyWhere, keyArgs] = tenant
    ? ["idempotency_keys", "tenant_id = ? AND key = ?", (key: string) => [tenant.id, key]]
    : ["platform_idempotency_keys", "key = ?", (key: string) => [key]];
  const columns = tenant ? "tenant_id, key" : "key";
  return {
    db,
    lookup: (key) => client.prepare(`SELECT request_hash, status, body, location, headers, created_at FROM ${table} WHERE ${keyWhere}`).bind(...keyArgs(key)),
    take: (key, hash, now, response) => [
      client.prepare(`DELETE FROM ${table} WHERE ${keyWhere} AND created_at < ?`).bind(...keyArgs(key), now - IDEMPOTENCY_TTL_MS),
      client
        .prepare(`INSERT INTO ${table} (${columns}, request_hash, status, body, location, headers, created_at) VALUES (${tenant ? "?, ?" : "?"}, ?, ?, ?, ?, ?, ?)`)
        .bind(...keyArgs(key), hash, response?.status ?? 0, response?.body ?? "", response?.location ?? null, response?.headers ?? null, now),
    ],
    fill: (key, hash, r) =>
      client.prepare(`UPDATE ${table} SET status = ?, body = ?, location = ?, headers = ? WHERE ${keyWhere} AND request_hash = ? AND status = 0`).bind(r.status, r.body, r.location, r.headers, ...keyArgs(key), hash),
    release: (key, hash) => client.prepare(`DELETE FROM ${table} WHERE ${keyWhere} AND request_hash = ? AND status = 0`).bind(...keyArgs(key), hash),
  };
}

/** Thrown from the request's first D1 call when the key has a stored answer; the middleware answers it. */
class KeyAnswered extends ApiError {
  constructor(readonly stored: StoredResponse) {
    super("idempotency_key_in_use", "answered from the stored response");
  }
}

/** What a stored record means for this request: a replay, a refusal, or nothing (no live record). */
function judge(row: Record<string, unknown> | null, hash: string, now: number): StoredResponse | undefined {
  // An expired record is as good as none; the write that follows replaces it (take()).
  if (!row || now - Number(row.created_at) > IDEMPOTENCY_TTL_MS) return undefined;
  if (row.request_hash !== hash) {
    throw new ApiError("idempotency_key_reused", "This Idempotency-Key was already used with a different request body or endpoint. Use a new key for a new request.");
  }
  if (Number(row.status) === 0) {
    const orphan = now - Number(row.created_at) > ORPHAN_AFTER_MS;
    throw new ApiError(
      "idempotency_key_in_use",
      orphan
        ? "The first request with this Idempotency-Key was applied, but its response could not be stored; it will not be applied again. Read the resource (GET) or use a new key."
        : "The first request with this Idempotency-Key is still being answered. Retry in a second to receive its response.",
      { headers: orphan ? {} : { "Retry-After": "1" } },
    );
  }
  return { status: Number(row.status), body: String(row.body), location: (row.location as string | null) ?? null, headers: (row.headers as string | null) ?? null };
}

/** The response as stored: a secret-bearing body is never kept (`secret`). */
async function snapshot(res: Response, secret: boolean): Promise<StoredResponse> {
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!NOT_REPLAYED.test(name)) headers[name] = value;
  });
  return { status: res.status, body: secret ? "" : await res.clone().text(), location: res.headers.get("Location"), headers: JSON.stringify(headers) };
}

function replay(stored: StoredResponse, secret: string | undefined): Response {
  // Erasure emptied the stored response (users/erase-copies.ts): the retry learns the person is gone,
  // not who they were, and nothing is created again.
  if (stored.status === ERASED_RESPONSE_STATUS) {
    throw new ApiError("user_erased", "A user this request created or named was erased, so its stored response was emptied. Use a new Idempotency-Key to send a new request.", {
      extra: stored.location?.startsWith("/v1/users/") ? { userId: stored.location.split("/")[3] } : {},
    });
  }
  if (secret) {
    throw new ApiError("secret_not_replayed", `This request already succeeded and created ${stored.location ?? "the resource"}, but its response held ${secret}, which was shown once and is not stored. If the first response was lost, remove that resource and create a new one with a new Idempotency-Key.`, {
      extra: stored.location ? { location: stored.location } : {},
      headers: stored.location ? { Location: stored.location } : {},
    });
  }
  const headers = new Headers(stored.headers ? (JSON.parse(stored.headers) as Record<string, string>) : { "Content-Type": "application/json" });
  if (stored.location) headers.set("Location", stored.location);
  headers.set("Idempotent-Replayed", "true");
  return new Response(stored.body === "" ? null : stored.body, { status: stored.status, headers });
}

type KeyState = { gate: IdempotencyGate; inBatch?: StoredResponse };
const STATE = new WeakMap<object, KeyState>();

/**
 * For a handler that knows its response before its write: stores it in the claim itself (the same
 * batch as the write). Call before the write; `headers` are the ones the response will carry.
 */
export function respondInBatch(c: Context<AppEnv>, status: number, body: unknown, headers: Record<string, string>): void {
  const state = STATE.get(c.get("gates"));
  if (!state) return;
  state.inBatch = { status, body: JSON.stringify(body), location: headers.Location ?? null, headers: JSON.stringify({ "content-type": "application/json", ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) }) };
}

/**
 * The route middleware. `secret` names what a secret-bearing response holds ("the API token's
 * secret"): such a response is stored without its body and a replay is refused (see above).
 */
export function idempotent(options: { secret?: string } = {}) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const raw = c.req.header("Idempotency-Key");
    if (raw === undefined) return next();
    const key = checkIdempotencyKey(raw);
    const body = c.req.bodyCache.json === undefined ? null : await c.req.bodyCache.json;
    const hash = await fingerprint(c.req.method, new URL(c.req.url).pathname, body);
    const store = keyStore(c);
    const now = (c.get("clock") ?? Date).now();
    const gates = c.get("gates");
    let answered: StoredResponse | undefined;
    const state: KeyState = {
      gate: {
        client: store.db.$client,
        lookup: store.lookup(key),
        check(row) {
          answered = judge(row, hash, now);
          if (answered) throw new KeyAnswered(answered);
        },
        take: () => store.take(key, hash, now, state.inBatch ?? null),
      },
    };
    gates.idempotency = state.gate;
    STATE.set(gates, state);
    await next();
    // From here on, the request's statements are ordinary ones again.
    gates.idempotency = undefined;
    STATE.delete(gates);
    // Started once the response is out (a macrotask later), so it is never on the critical path.
    const background = (statements: D1PreparedStatement[]) =>
      c.executionCtx.waitUntil(
        new Promise((resolve) => setTimeout(resolve, 0))
          .then(() => store.db.$client.batch(statements))
          .catch((err) => console.warn("idempotency: could not store a response", String(err))),
      );
    if (answered) {
      c.res = replay(answered, options.secret);
      return;
    }
    if (c.error || c.res.status >= 300) {
      if (state.gate.taken) background([store.release(key, hash)]);
      else if (c.error && state.gate.tried) {
        // The write may have failed because a concurrent request with the same key took it first:
        // if that request stored its response, it is the answer (one more round trip, errors only).
        const stored = judge(await store.lookup(key).first(), hash, now);
        if (stored) c.res = replay(stored, options.secret);
      }
      return;
    }
    if (state.gate.taken && state.inBatch) return;
    const response = await snapshot(c.res, options.secret !== undefined);
    // Filled after the response is sent; a request that wrote nothing stores its answer the same way.
    background(state.gate.taken ? [store.fill(key, hash, response)] : store.take(key, hash, now, response));
  });
}

export async function purgeExpiredIdempotencyKeys(db: Db): Promise<void> {
  const before = Date.now() - IDEMPOTENCY_TTL_MS;
  await db.$client.batch([
    db.$client.prepare("DELETE FROM idempotency_keys WHERE created_at < ?").bind(before),
    db.$client.prepare("DELETE FROM platform_idempotency_keys WHERE created_at < ?").bind(before),
  ]);
}

/** Said in the description of every route whose response carries a freshly issued secret. */
export const SECRET_REPLAY_NOTE =
  " With `Idempotency-Key`, the secret is never stored: a retry with the same key and body creates nothing and answers " +
  "409 `secret_not_replayed` with `Location` of what the first request created (remove it and create anew if the first response was lost).";

/** The 422 every creating route documents (409 idempotency_key_in_use shares the route's 409). */
export const idempotencyResponses = {
  422: problemResponse("idempotency_key_reused: this Idempotency-Key was used with another body or endpoint."),
} as const;
