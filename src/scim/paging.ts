/**
 * Isolate-local hints that keep SCIM's offset paging (startIndex/count) cheap on large tenants.
 * Identity providers import by walking startIndex = 1, 101, 201, ... over the whole tenant, which
 * costs a count of every live user per page plus an ever longer offset walk.
 *
 * - Unfiltered counts of at least COUNT_CACHE_MIN users are reused for COUNT_TTL_MS, so
 *   totalResults may lag that long on such tenants. Filtered counts (e.g. Okta's
 *   `userName eq "x"` existence check) are never cached.
 * - Where each unfiltered, default-ordered page ended is remembered, so a request for the next
 *   startIndex continues by keyset (`id > last`) instead of skipping startIndex - 1 rows. Ids are
 *   UUIDv7, so users created meanwhile sort after the anchor, as they would with the offset.
 */
const COUNT_CACHE_MIN = 10_000;
const COUNT_TTL_MS = 10_000;
const ANCHOR_TTL_MS = 60_000;
const MAX_ENTRIES = 2_000;

const counts = new Map<string, { n: number; expires: number }>();
const anchors = new Map<string, { lastId: string; expires: number }>();

function put<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MAX_ENTRIES) map.clear();
  map.set(key, value);
}

export function cachedCount(tenantId: string): number | undefined {
  const hit = counts.get(tenantId);
  return hit && hit.expires > Date.now() ? hit.n : undefined;
}

export function rememberCount(tenantId: string, n: number): void {
  if (n >= COUNT_CACHE_MIN) put(counts, tenantId, { n, expires: Date.now() + COUNT_TTL_MS });
}

/** The id after which the page starting at `startIndex` begins, if a previous page ended there. */
export function anchorFor(tenantId: string, startIndex: number): string | undefined {
  const hit = anchors.get(`${tenantId}:${startIndex}`);
  return hit && hit.expires > Date.now() ? hit.lastId : undefined;
}

export function rememberPageEnd(tenantId: string, nextStartIndex: number, lastId: string): void {
  put(anchors, `${tenantId}:${nextStartIndex}`, { lastId, expires: Date.now() + ANCHOR_TTL_MS });
}

/** For tests: forget every hint. */
export function forgetPagingHints(): void {
  counts.clear();
  anchors.clear();
}
