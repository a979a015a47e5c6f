/**
 * API token format: `prov_` + 36 random base62 characters + a 6-character base62 CRC32 of those.
 * The fixed prefix lets secret scanners recognise a leaked token; the checksum lets them (and us)
 * reject a mistyped one without a database lookup. Only the SHA-256 of the token is stored.
 */
import { crc32, randomBase62, sha256Hex, toBase62 } from "../lib/crypto";

export const TOKEN_PREFIX = "prov_";
const RANDOM_LENGTH = 36;
const CHECKSUM_LENGTH = 6;
const TOKEN_RE = new RegExp(`^${TOKEN_PREFIX}([0-9A-Za-z]{${RANDOM_LENGTH}})([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`);

/** `auth`: the platform's sign-in may check passwords (POST /v1/users/{id}/password/verify) and nothing else. */
export const SCOPES = ["users:read", "users:write", "admin", "scim", "auth"] as const;
export type Scope = (typeof SCOPES)[number];

/** What a tenant's first token (made with the tenant) may do. */
export const FIRST_TOKEN_SCOPES: Scope[] = ["admin", "users:read", "users:write", "scim"];

export interface AuthenticatedToken {
  id: string;
  tenantId: string;
  name: string;
  scopes: Scope[];
  /** The rest of the row, read in the same lookup, for GET /v1/me (epoch ms). */
  createdAt: number;
  expiresAt: number | null;
  /** As it stands after this request (auth updates it at most once a minute). */
  lastUsedAt: number | null;
  prefix: string;
}

export function generateToken(): string {
  const random = randomBase62(RANDOM_LENGTH);
  return `${TOKEN_PREFIX}${random}${toBase62(crc32(random), CHECKSUM_LENGTH)}`;
}

/**
 * Why a bearer value is not a usable token, most basic cause first, so the caller is told the one
 * thing to fix. The checksum is judged last: it is the only cause a shape check cannot see.
 */
export type TokenProblem =
  | { reason: "wrong_prefix" }
  | { reason: "wrong_length"; length: number }
  | { reason: "invalid_characters"; position: number }
  | { reason: "checksum_mismatch" };

export const TOKEN_LENGTH = TOKEN_PREFIX.length + RANDOM_LENGTH + CHECKSUM_LENGTH;

export function diagnoseToken(token: string): TokenProblem | null {
  if (!token.startsWith(TOKEN_PREFIX)) return { reason: "wrong_prefix" };
  // Positions are 1-based over the whole token, as a person counts them when comparing by eye.
  const bad = /[^0-9A-Za-z]/.exec(token.slice(TOKEN_PREFIX.length));
  if (bad) return { reason: "invalid_characters", position: TOKEN_PREFIX.length + bad.index + 1 };
  if (token.length !== TOKEN_LENGTH) return { reason: "wrong_length", length: token.length };
  const match = TOKEN_RE.exec(token)!;
  return toBase62(crc32(match[1]!), CHECKSUM_LENGTH) === match[2] ? null : { reason: "checksum_mismatch" };
}

/** True when the string has the token shape and a valid checksum. */
export function isWellFormedToken(token: string): boolean {
  return diagnoseToken(token) === null;
}

export function hashToken(token: string): Promise<string> {
  return sha256Hex(token);
}

/** The part of a token shown in listings: enough to recognise it, useless to an attacker. */
export function displayPrefix(token: string): string {
  return token.slice(0, TOKEN_PREFIX.length + 6);
}
