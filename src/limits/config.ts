/**
 * Rate-limit configuration: defaults from wrangler vars, per-tenant overrides from the tenants
 * table. A malformed var falls back to its default with a warning rather than taking the API down
 * (the limiter fails open for the same reason).
 */
import type { Env } from "../env";

export interface BlockPolicy {
  /** More than this many rejected requests within `windowSeconds` starts a block. */
  threshold: number;
  windowSeconds: number;
  /** How long a block lasts. */
  durationSeconds: number;
}

export interface LimitConfig {
  enabled: boolean;
  ipPerSecond: number;
  tenantPerSecond: number;
  block: BlockPolicy;
  /** A limiter call slower than this counts as a failure: the request is served (fail open). */
  timeoutMs: number;
}

export const DEFAULT_LIMITS = {
  ipPerSecond: 10,
  tenantPerSecond: 50,
  blockThreshold: 100,
  blockWindowSeconds: 60,
  blockDurationSeconds: 300,
  timeoutMs: 1000,
} as const;

/** Upper bound for any per-second limit, from configuration or a tenant override. */
export const MAX_PER_SECOND = 100_000;

const warned = new Set<string>();

function positiveInt(env: Env, name: keyof Env, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (Number.isInteger(value) && value >= 1 && value <= max) return value;
  if (!warned.has(name)) {
    warned.add(name);
    console.warn(JSON.stringify({ level: "warn", event: "rate_limit_config_invalid", var: name, fallback, hint: `must be an integer from 1 to ${max}` }));
  }
  return fallback;
}

let memo: { env: Env; config: LimitConfig } | undefined;

export function readLimitConfig(env: Env): LimitConfig {
  if (memo?.env === env) return memo.config;
  const config: LimitConfig = {
    enabled: (env.RATE_LIMIT_ENABLED ?? "true").trim().toLowerCase() !== "false",
    ipPerSecond: positiveInt(env, "RATE_LIMIT_IP_PER_SECOND", DEFAULT_LIMITS.ipPerSecond, MAX_PER_SECOND),
    tenantPerSecond: positiveInt(env, "RATE_LIMIT_TENANT_PER_SECOND", DEFAULT_LIMITS.tenantPerSecond, MAX_PER_SECOND),
    block: {
      threshold: positiveInt(env, "RATE_LIMIT_BLOCK_THRESHOLD", DEFAULT_LIMITS.blockThreshold, 1_000_000),
      windowSeconds: positiveInt(env, "RATE_LIMIT_BLOCK_WINDOW_SECONDS", DEFAULT_LIMITS.blockWindowSeconds, 3600),
      durationSeconds: positiveInt(env, "RATE_LIMIT_BLOCK_SECONDS", DEFAULT_LIMITS.blockDurationSeconds, 86_400),
    },
    timeoutMs: positiveInt(env, "RATE_LIMIT_TIMEOUT_MS", DEFAULT_LIMITS.timeoutMs, 60_000),
  };
  memo = { env, config };
  return config;
}

export interface TenantLimitOverrides {
  rateLimitIpPerSecond?: number | null;
  rateLimitTenantPerSecond?: number | null;
}

/** The limits that apply to requests on a tenant's hosts. */
export function effectiveLimits(config: LimitConfig, tenant: TenantLimitOverrides): { ipPerSecond: number; tenantPerSecond: number } {
  return {
    ipPerSecond: tenant.rateLimitIpPerSecond ?? config.ipPerSecond,
    tenantPerSecond: tenant.rateLimitTenantPerSecond ?? config.tenantPerSecond,
  };
}
