/**
 * Idempotency-Key for POST: the first successful response is stored in the same D1 batch as the
 * write it describes, so a retry (even one racing the original) replays it and creates nothing.
 * Failed requests are not stored: fixing the input and retrying with the same key is allowed.
 */
import { and, eq, lt } from "drizzle-orm";
import { idempotencyKeys } from "../db/schema";
import type { Db } from "../env";
import { ApiError } from "../http/errors";
import { sha256Hex } from "../lib/crypto";
import { ERASED_RESPONSE_STATUS } from "../users/erase-copies";

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** Visible ASCII, 1-255 characters; also the header's pattern in the OpenAPI document. */
export const KEY_RE = /^[\x21-\x7e]{1,255}$/;

export interface StoredResponse {
  status: number;
  body: string;
  location: string | null;
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
    throw new ApiError("invalid_query", "Idempotency-Key must be 1-255 visible ASCII characters, e.g. a UUID.", {
      errors: [{ path: "Idempotency-Key", message: "must be 1-255 visible ASCII characters" }],
    });
  }
  return key;
}

export function fingerprint(method: string, path: string, body: unknown): Promise<string> {
  return sha256Hex(`${method} ${path}\n${stableJson(body)}`);
}

/** The stored record of a key: a query for the request's read batch (see replayFrom). */
export function replayQuery(db: Db, tenantId: string, key: string) {
  return db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.tenantId, tenantId), eq(idempotencyKeys.key, key)));
}

type KeyRow = typeof idempotencyKeys.$inferSelect;

/** The stored response for this key, or undefined; 422 when the key was used for another request. */
export function replayFrom(rows: KeyRow[], requestHash: string, now: number): StoredResponse | undefined {
  const row = rows[0];
  // An expired record is as good as none; the write that follows replaces it (recordResponse).
  if (!row || now - row.createdAt > IDEMPOTENCY_TTL_MS) return undefined;
  if (row.requestHash !== requestHash) {
    throw new ApiError("idempotency_key_reused", "This Idempotency-Key was already used with a different request body or endpoint. Use a new key for a new request.");
  }
  return { status: row.status, body: row.body, location: row.location };
}

/** One round trip of its own: for the error path, when a racing request may have stored a response. */
export async function findReplay(db: Db, tenantId: string, key: string, requestHash: string, now: number): Promise<StoredResponse | undefined> {
  return replayFrom(await replayQuery(db, tenantId, key).all(), requestHash, now);
}

/**
 * Statements that store the response with the write it describes. A live record of the same key
 * makes the insert (and so the whole write) fail, which is how a racing retry loses; an expired
 * one is deleted first.
 */
export function recordResponse(db: Db, tenantId: string, key: string, requestHash: string, response: StoredResponse, now: number) {
  return [
    db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.tenantId, tenantId), eq(idempotencyKeys.key, key), lt(idempotencyKeys.createdAt, now - IDEMPOTENCY_TTL_MS))),
    db.insert(idempotencyKeys).values({ tenantId, key, requestHash, ...response, createdAt: now }),
  ];
}

export function replayResponse(stored: StoredResponse, extraHeaders: Record<string, string> = {}): Response {
  // Erasure emptied the stored response (users/erase-copies.ts): the retry learns the user is gone,
  // not who they were, and nothing is created again.
  if (stored.status === ERASED_RESPONSE_STATUS) {
    throw new ApiError("user_erased", "The user this request created was erased; only its id remains. Use a new Idempotency-Key to create a user again.", {
      extra: stored.location ? { userId: stored.location.split("/").pop() } : {},
    });
  }
  const headers = new Headers({ "Content-Type": "application/json", "Idempotent-Replayed": "true", ...extraHeaders });
  if (stored.location) headers.set("Location", stored.location);
  return new Response(stored.body, { status: stored.status, headers });
}

export async function purgeExpiredIdempotencyKeys(db: Db): Promise<void> {
  await db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, Date.now() - IDEMPOTENCY_TTL_MS)).run();
}
