/**
 * API token rows and their public view: building a new row (the secret is returned once and
 * only its hash is stored) and rendering a row without the secret. Separate from the handlers
 * because the platform API creates a tenant's first admin token with the same code.
 */
import { displayPrefix, generateToken, hashToken, type Scope } from "../../auth/tokens";
import type { apiTokens } from "../../db/schema";
import { uuidv7 } from "../../lib/ids";

type TokenRow = typeof apiTokens.$inferSelect;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toApiToken(row: TokenRow) {
  return {
    id: row.id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as Scope[],
    prefix: row.displayPrefix,
    createdAt: new Date(row.createdAt).toISOString(),
    lastUsedAt: iso(row.lastUsedAt),
    expiresAt: iso(row.expiresAt),
    disabledAt: iso(row.disabledAt),
    active: row.disabledAt === null && (row.expiresAt === null || row.expiresAt > Date.now()),
  };
}

/** Builds a new token row; the secret is returned to the caller and never stored. */
export async function newTokenRow(tenantId: string, name: string, scopes: Scope[], expiresAt: number | null = null) {
  const secret = generateToken();
  const row: TokenRow = {
    id: uuidv7(),
    tenantId,
    name,
    tokenHash: await hashToken(secret),
    displayPrefix: displayPrefix(secret),
    scopes: JSON.stringify([...new Set(scopes)]),
    createdAt: Date.now(),
    lastUsedAt: null,
    expiresAt,
    disabledAt: null,
  };
  return { secret, row, view: toApiToken(row) };
}
