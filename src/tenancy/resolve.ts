/**
 * Host -> tenant. `<slug>.<BASE_DOMAIN>` is a tenant subdomain, BASE_DOMAIN itself is the apex
 * (platform API), anything else is looked up as a custom domain. Answers, including "no such
 * tenant", are cached in the isolate for TENANT_CACHE_SECONDS so that most requests cost no
 * query, while a new mapping or a suspension takes effect within seconds.
 */
import { eq } from "drizzle-orm";
import { tenantDomains, tenants } from "../db/schema";
import type { Db } from "../env";

export interface TenantRecord {
  id: string;
  slug: string;
  name: string;
  suspended: boolean;
  /** Rate-limit overrides; null or absent = the configured default. */
  rateLimitIpPerSecond?: number | null;
  rateLimitTenantPerSecond?: number | null;
  /** The shard holding the tenant's data (null: the default shard); cached with the rest. */
  shard?: string | null;
}

export type HostResolution =
  | { kind: "apex" }
  | { kind: "tenant"; tenant: TenantRecord }
  | { kind: "unknown" };

/** DNS label rules for slugs: 1-63 characters, lowercase letters, digits and inner hyphens. */
export const SLUG_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Hostnames accepted as custom domains: two or more DNS labels, no port. */
export const HOSTNAME_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

const cache = new Map<string, { value: HostResolution; expiresAt: number }>();
const MAX_CACHE_ENTRIES = 10_000;

export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h; // IPv6 literal: never a tenant
  const colon = h.lastIndexOf(":");
  if (colon !== -1) h = h.slice(0, colon);
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

export async function resolveHost(
  db: Db,
  rawHost: string,
  baseDomain: string,
  cacheSeconds: number,
): Promise<HostResolution> {
  const host = normaliseHost(rawHost);
  const base = baseDomain.toLowerCase();
  if (host === base) return { kind: "apex" };

  const now = Date.now();
  const cached = cache.get(host);
  if (cached && cached.expiresAt > now) return cached.value;

  const value = await lookup(db, host, base);
  if (cache.size >= MAX_CACHE_ENTRIES) cache.clear();
  cache.set(host, { value, expiresAt: now + cacheSeconds * 1000 });
  return value;
}

async function lookup(db: Db, host: string, base: string): Promise<HostResolution> {
  const columns = {
    id: tenants.id,
    slug: tenants.slug,
    name: tenants.name,
    suspended: tenants.suspended,
    rateLimitIpPerSecond: tenants.rateLimitIpPerSecond,
    rateLimitTenantPerSecond: tenants.rateLimitTenantPerSecond,
    shard: tenants.shard,
  };
  if (host.endsWith(`.${base}`)) {
    const slug = host.slice(0, -(base.length + 1));
    if (!SLUG_RE.test(slug)) return { kind: "unknown" };
    const tenant = await db.select(columns).from(tenants).where(eq(tenants.slug, slug)).get();
    return tenant ? { kind: "tenant", tenant } : { kind: "unknown" };
  }
  if (!HOSTNAME_RE.test(host)) return { kind: "unknown" };
  const tenant = await db
    .select(columns)
    .from(tenantDomains)
    .innerJoin(tenants, eq(tenants.id, tenantDomains.tenantId))
    .where(eq(tenantDomains.hostname, host))
    .get();
  return tenant ? { kind: "tenant", tenant } : { kind: "unknown" };
}

/** Drops cached resolutions so that this isolate sees a platform change at once. */
export function forgetCachedHosts(): void {
  cache.clear();
}
