/**
 * Opaque keyset cursors: base64url of a small JSON document naming the ordering and the last
 * row's sort key. The ordering is checked on decode, so a cursor cannot be replayed against a
 * different query shape.
 */
import { ApiError } from "./errors";

export interface CursorPayload {
  /** Which ordering the cursor belongs to. */
  o: string;
  /** Sort key values of the last row returned. */
  k: (string | number)[];
}

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): string {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

export function encodeCursor(payload: CursorPayload): string {
  return toBase64Url(JSON.stringify(payload));
}

export function decodeCursor(cursor: string, ordering: string, arity: number): CursorPayload["k"] {
  const invalid = () =>
    new ApiError("invalid_cursor", "The cursor is not one this endpoint issued for this query; start again without a cursor.", {
      errors: [{ path: "cursor", message: "must be a nextCursor value returned by the previous page of the same query" }],
    });
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let payload: unknown;
  try {
    payload = JSON.parse(fromBase64Url(cursor));
  } catch {
    throw invalid();
  }
  const p = payload as Partial<CursorPayload>;
  if (p?.o !== ordering || !Array.isArray(p.k) || p.k.length !== arity) throw invalid();
  if (!p.k.every((v) => typeof v === "string" || (typeof v === "number" && Number.isFinite(v)))) throw invalid();
  return p.k;
}
