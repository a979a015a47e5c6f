/**
 * Console sign-in and sessions. Secrets (link and session) are 256 random bits, handed to the
 * browser once and stored only as SHA-256 hashes.
 *
 * Who owns a session:
 * - signed in with an API token: that token. The session lasts while the token is enabled,
 *   unexpired and holds the `admin` scope; it is checked on every request (one joined read), so
 *   disabling the token ends the session on its next request.
 * - signed in with a link: the platform operator who issued the link. The session ends on sign-out,
 *   after SESSION_LIFETIME_MS, when the tenant is suspended, or when the operator revokes all of the
 *   tenant's console sessions (DELETE /platform/tenants/{slug}/console-sessions).
 */
import { and, eq, gt, inArray, isNull, lt } from "drizzle-orm";
import type { Clock, Db } from "../core/context";
import { apiTokens, consoleLinks, consoleSessions } from "../db/schema";
import { diagnoseToken, hashToken, type Scope } from "../auth/tokens";
import { tell } from "../auth/token-errors";
import { ApiError } from "../http/errors";
import { sha256Hex } from "../lib/crypto";

export const LINK_LIFETIME_MS = 15 * 60_000;
export const SESSION_LIFETIME_MS = 12 * 60 * 60_000;

export interface ConsoleSession {
  idHash: string;
  tenantId: string;
  method: "link" | "token";
  tokenId: string | null;
  expiresAt: number;
  /** The synchronizer token every form of this session must carry. */
  csrf: string;
}

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Derived from the cookie's secret, which only the browser holds: a cross-site page cannot know it. */
export function csrfTokenOf(sessionSecret: string): Promise<string> {
  return sha256Hex(`console-csrf:${sessionSecret}`);
}

/** Issues a one-time sign-in link secret for a tenant; only its hash is stored. */
export async function issueLink(db: Db, tenantId: string, now: number): Promise<{ secret: string; expiresAt: number }> {
  const secret = randomSecret();
  const expiresAt = now + LINK_LIFETIME_MS;
  await db.insert(consoleLinks).values({ secretHash: await sha256Hex(secret), tenantId, createdAt: now, expiresAt, usedAt: null }).run();
  return { secret, expiresAt };
}

async function startSession(db: Db, tenantId: string, method: "link" | "token", tokenId: string | null, now: number) {
  const secret = randomSecret();
  const expiresAt = now + SESSION_LIFETIME_MS;
  await db.insert(consoleSessions).values({ idHash: await sha256Hex(secret), tenantId, method, tokenId, createdAt: now, expiresAt }).run();
  return { secret, expiresAt };
}

const invalidLink = () =>
  new ApiError("unknown_token", "This sign-in link is not valid: it was already used, has expired (links last 15 minutes), or belongs to another tenant. Ask for a new one.", {
    errors: [{ path: "link", message: "is used, expired or not for this tenant" }],
  });

/**
 * Exchanges a link for a session. The UPDATE is the single-use guard: of two concurrent
 * redemptions only one sees the row change (D1 runs writes one at a time).
 */
export async function redeemLink(db: Db, tenantId: string, secret: string, clock: Clock) {
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) throw invalidLink();
  const now = clock.now();
  const used = await db
    .update(consoleLinks)
    .set({ usedAt: now })
    .where(and(eq(consoleLinks.secretHash, await sha256Hex(secret)), eq(consoleLinks.tenantId, tenantId), isNull(consoleLinks.usedAt), gt(consoleLinks.expiresAt, now)))
    .returning({ tenantId: consoleLinks.tenantId })
    .all();
  if (used.length === 0) throw invalidLink();
  return startSession(db, tenantId, "link", null, now);
}

/** Why a token row cannot hold a console session, or null when it can. */
function tokenRefusal(row: { tenantId: string; disabledAt: number | null; expiresAt: number | null; scopes: string } | undefined, tenantId: string, now: number): ApiError | null {
  const field = (message: string) => [{ path: "token", message }];
  if (!row) return new ApiError("unknown_token", "This API token does not exist.", { errors: field("is not a token of this service") });
  if (row.tenantId !== tenantId) return new ApiError("wrong_tenant_token", "This API token belongs to another tenant; sign in on that tenant's host.", { errors: field("belongs to another tenant") });
  if (row.disabledAt !== null) return new ApiError("disabled_token", "This API token has been disabled by an admin.", { errors: field("is disabled") });
  if (row.expiresAt !== null && row.expiresAt <= now) return new ApiError("expired_token", "This API token has expired.", { errors: field("has expired") });
  if (!(JSON.parse(row.scopes) as Scope[]).includes("admin")) {
    return new ApiError("insufficient_scope", "The console needs a token with the 'admin' scope; this token lacks it.", { errors: field("lacks the admin scope") });
  }
  return null;
}

export async function signInWithToken(db: Db, tenantId: string, token: string, clock: Clock) {
  const value = token.trim();
  // The same diagnosis as the API's (auth/token-errors.ts): a mistyped token is told so.
  const problem = diagnoseToken(value);
  if (problem) {
    const told = tell(problem);
    throw new ApiError(told.code, told.detail, { errors: [{ path: "token", message: told.short }], extra: { reason: problem.reason } });
  }
  const row = await db.select().from(apiTokens).where(eq(apiTokens.tokenHash, await hashToken(value))).get();
  const now = clock.now();
  const refusal = tokenRefusal(row, tenantId, now);
  if (refusal) throw refusal;
  return startSession(db, tenantId, "token", row!.id, now);
}

/** The session behind a cookie secret on this tenant's host, or null (unknown, expired, revoked, or its token no longer admin). */
export async function loadSession(db: Db, tenantId: string, secret: string, now: number): Promise<ConsoleSession | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  const idHash = await sha256Hex(secret);
  const row = await db
    .select({ session: consoleSessions, token: { tenantId: apiTokens.tenantId, disabledAt: apiTokens.disabledAt, expiresAt: apiTokens.expiresAt, scopes: apiTokens.scopes } })
    .from(consoleSessions)
    .leftJoin(apiTokens, eq(apiTokens.id, consoleSessions.tokenId))
    .where(eq(consoleSessions.idHash, idHash))
    .get();
  if (!row || row.session.tenantId !== tenantId || row.session.expiresAt <= now) return null;
  if (row.session.method === "token" && tokenRefusal(row.token ?? undefined, tenantId, now)) return null;
  const s = row.session;
  return { idHash, tenantId: s.tenantId, method: s.method, tokenId: s.tokenId, expiresAt: s.expiresAt, csrf: await csrfTokenOf(secret) };
}

export async function endSession(db: Db, idHash: string): Promise<void> {
  await db.delete(consoleSessions).where(eq(consoleSessions.idHash, idHash)).run();
}

/** Revokes every console session of a tenant (the platform operator's handle on link sessions). */
export async function endTenantSessions(db: Db, tenantId: string): Promise<number> {
  const gone = await db.delete(consoleSessions).where(eq(consoleSessions.tenantId, tenantId)).returning({ idHash: consoleSessions.idHash }).all();
  return gone.length;
}

/** Rows deleted per table per run: bounded work, the next run continues. */
const PURGE_BATCH = 1000;

/**
 * The 5-minute cron (src/index.ts): expired links and sessions are useless (every read checks the
 * expiry) but are secrets' hashes and timestamps nobody needs; used links go when they expire too.
 */
export async function purgeExpiredConsoleState(db: Db, now: number): Promise<{ links: number; sessions: number }> {
  const [links, sessions] = await db.batch([
    db.delete(consoleLinks).where(inArray(consoleLinks.secretHash, db.select({ h: consoleLinks.secretHash }).from(consoleLinks).where(lt(consoleLinks.expiresAt, now)).limit(PURGE_BATCH))).returning({ h: consoleLinks.secretHash }),
    db.delete(consoleSessions).where(inArray(consoleSessions.idHash, db.select({ h: consoleSessions.idHash }).from(consoleSessions).where(lt(consoleSessions.expiresAt, now)).limit(PURGE_BATCH))).returning({ h: consoleSessions.idHash }),
  ]);
  return { links: links.length, sessions: sessions.length };
}
