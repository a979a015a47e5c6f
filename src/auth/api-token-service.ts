/**
 * API token administration: the rules for creating, listing and disabling a tenant's tokens, used
 * by the REST adapter (/v1/api-tokens) and the admin console alike. Secrets are returned once, at
 * creation, and never stored (only their SHA-256).
 */
import { adminEvent, settleActor } from "../audit/admin-events";
import { and, asc, eq, gt } from "drizzle-orm";
import type { CoreContext } from "../core/context";
import { apiTokens } from "../db/schema";
import type { Db } from "../env";
import { ApiError, fieldPath, type FieldError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import { displayPrefix, generateToken, hashToken, SCOPES, type Scope } from "./tokens";

export type TokenRow = typeof apiTokens.$inferSelect;

export interface ApiTokenView {
  id: string;
  name: string;
  scopes: Scope[];
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  disabledAt: string | null;
  active: boolean;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toApiToken(row: TokenRow, now = Date.now()): ApiTokenView {
  return {
    id: row.id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as Scope[],
    prefix: row.displayPrefix,
    createdAt: new Date(row.createdAt).toISOString(),
    lastUsedAt: iso(row.lastUsedAt),
    expiresAt: iso(row.expiresAt),
    disabledAt: iso(row.disabledAt),
    active: row.disabledAt === null && (row.expiresAt === null || row.expiresAt > now),
  };
}

/** Builds a new token row; the secret is returned to the caller and never stored. */
export async function newTokenRow(tenantId: string, name: string, scopes: Scope[], expiresAt: number | null = null, now = Date.now()) {
  const secret = generateToken();
  const row: TokenRow = {
    id: uuidv7(now),
    tenantId,
    name,
    tokenHash: await hashToken(secret),
    displayPrefix: displayPrefix(secret),
    scopes: JSON.stringify([...new Set(scopes)]),
    createdAt: now,
    lastUsedAt: null,
    expiresAt,
    disabledAt: null,
  };
  return { secret, row, view: toApiToken(row, now) };
}

export interface ApiTokenInput {
  name: string;
  scopes: string[];
  /** Epoch milliseconds, or null for a token that never expires. */
  expiresAt?: number | null;
}

/** The rules a new token obeys, whichever adapter asks (REST validates the same shape with zod first). */
function checkTokenInput(input: ApiTokenInput, now: number): FieldError[] {
  const errors: FieldError[] = [];
  const name = input.name.trim();
  if (name === "") errors.push({ path: "name", message: "must not be empty" });
  else if (name.length > 100) errors.push({ path: "name", message: "must be at most 100 characters" });
  if (input.scopes.length === 0) errors.push({ path: "scopes", message: "must list at least one scope" });
  input.scopes.forEach((s, i) => {
    if (!(SCOPES as readonly string[]).includes(s)) errors.push({ path: fieldPath(["scopes", i]), message: `must be one of: ${SCOPES.join(", ")}` });
  });
  if (input.expiresAt != null && input.expiresAt <= now) errors.push({ path: "expiresAt", message: "must be in the future" });
  return errors;
}

export async function createApiToken(ctx: CoreContext, input: ApiTokenInput) {
  const now = ctx.clock.now();
  const errors = checkTokenInput(input, now);
  if (errors.length > 0) throw new ApiError("validation_failed", errors.map((e) => `${e.path}: ${e.message}`).join("; "), { errors });
  const created = await newTokenRow(ctx.tenantId, input.name.trim(), input.scopes as Scope[], input.expiresAt ?? null, now);
  await settleActor(ctx);
  await ctx.db.batch([ctx.db.insert(apiTokens).values(created.row), adminEvent(ctx, "api_token.created", created.row.id, { apiToken: created.view }, now)]);
  return { token: created.secret, apiToken: created.view };
}

export async function listApiTokens(ctx: CoreContext): Promise<ApiTokenView[]> {
  return (await listApiTokenPage(ctx, { limit: 1000 })).rows;
}

/** A page of the tenant's tokens in creation order (ids are UUIDv7), after the token `after`. */
export async function listApiTokenPage(ctx: CoreContext, q: { limit: number; after?: string }): Promise<{ rows: ApiTokenView[]; hasMore: boolean }> {
  const where = and(eq(apiTokens.tenantId, ctx.tenantId), q.after === undefined ? undefined : gt(apiTokens.id, q.after));
  const rows = await ctx.db.select().from(apiTokens).where(where).orderBy(asc(apiTokens.id)).limit(q.limit + 1).all();
  const now = ctx.clock.now();
  return { rows: rows.slice(0, q.limit).map((r) => toApiToken(r, now)), hasMore: rows.length > q.limit };
}

async function findToken(db: Db, tenantId: string, id: string) {
  const row = await db.select().from(apiTokens).where(and(eq(apiTokens.tenantId, tenantId), eq(apiTokens.id, id))).get();
  if (!row) throw new ApiError("not_found", `No API token with id '${id}' exists in this tenant.`);
  return row;
}

export async function getApiToken(ctx: CoreContext, id: string): Promise<ApiTokenView> {
  return toApiToken(await findToken(ctx.db, ctx.tenantId, id), ctx.clock.now());
}

/** Disables a token; takes effect on its very next request (tokens are never cached). Idempotent. */
export async function disableApiToken(ctx: CoreContext, id: string): Promise<ApiTokenView> {
  const row = await findToken(ctx.db, ctx.tenantId, id);
  if (row.disabledAt === null) {
    row.disabledAt = ctx.clock.now();
    await ctx.db.batch([
      ctx.db.update(apiTokens).set({ disabledAt: row.disabledAt }).where(and(eq(apiTokens.tenantId, ctx.tenantId), eq(apiTokens.id, row.id))),
      adminEvent(ctx, "api_token.disabled", row.id, { id: row.id, name: row.name }, row.disabledAt),
    ]);
  }
  return toApiToken(row, ctx.clock.now());
}
