/**
 * Passwords: the policy, the hash and the check. The only module that sees a password in clear;
 * nothing here puts it into an error message, a log or a return value.
 *
 * PBKDF2-HMAC-SHA256 through WebCrypto at OWASP's current count (600,000 iterations). workerd
 * used to refuse more than 100,000 iterations; the version this project pins (1.20261023) accepts
 * 600,000 (test/user-password.test.ts proves it by hashing). The stored form carries algorithm,
 * iterations and salt, so a later raise only changes PBKDF2_ITERATIONS: old hashes still verify.
 */
import type { FieldError } from "../http/errors";

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;
export const PBKDF2_ITERATIONS = 600_000;
/** Accepted when verifying stored hashes: bounds the CPU a corrupt or hostile row can cost. */
const MAX_STORED_ITERATIONS = 10_000_000;
const SALT_BYTES = 16;
const HASH_BITS = 256;
const PREFIX = "pbkdf2-sha256";

/** The policy, as field errors that never quote the password. */
export function checkPassword(password: unknown, email: string | null, path = "password"): FieldError[] {
  if (typeof password !== "string") return [{ path, message: "must be a string" }];
  // Length in code points, as a person counts characters.
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return [{ path, message: `must be at least ${PASSWORD_MIN_LENGTH} characters` }];
  if (length > PASSWORD_MAX_LENGTH) return [{ path, message: `must be at most ${PASSWORD_MAX_LENGTH} characters` }];
  if (email !== null && password.trim().toLowerCase() === email.trim().toLowerCase()) return [{ path, message: "must not be the user's email address" }];
  return [];
}

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const unb64 = (text: string) => Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, HASH_BITS));
}

/** `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`, with a fresh random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, PBKDF2_ITERATIONS);
  return `${PREFIX}$${PBKDF2_ITERATIONS}$${b64(salt)}$${b64(hash)}`;
}

/** Whether `password` matches the stored hash; compared in constant time. False for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [prefix, iterationsText, saltText, hashText] = stored.split("$");
  const iterations = Number(iterationsText);
  if (prefix !== PREFIX || !Number.isInteger(iterations) || iterations < 1 || iterations > MAX_STORED_ITERATIONS || !saltText || !hashText) return false;
  const expected = unb64(hashText);
  const actual = await derive(password, unb64(saltText), iterations);
  return expected.byteLength === actual.byteLength && crypto.subtle.timingSafeEqual(expected, actual);
}
