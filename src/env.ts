import type { Clock, Db } from "./core/context";
import type { RequestGates } from "./core/request-db";
import type { TenantRecord } from "./tenancy/resolve";
import type { AuthenticatedToken } from "./auth/tokens";
import type { QueueMessage } from "./events/messages";

/** Bindings and variables declared in wrangler.toml (and secrets from .dev.vars locally). */
export interface Env {
  /** The platform database (tenants, domains, the shard directory, IP blocks) and the default shard. */
  DB: D1Database;
  /** The second shard in wrangler.toml (region eu). Further shards are found by name via SHARDS. */
  SHARD_EU_1?: D1Database;
  /** The shard list, JSON: [{name, binding, region, jurisdiction?}] (src/shards/config.ts). */
  SHARDS?: string;
  /** "true" when shards have read replication on: token checks then go to the primary (src/shards/request.ts). */
  READ_REPLICATION?: string;
  /** Region label of DB when SHARDS is not set. */
  DEFAULT_DATA_REGION?: string;
  BASE_DOMAIN: string;
  TENANT_CACHE_SECONDS?: string;
  /** Comma-separated exact origins (https://app.example.com) browsers may call /v1, /scim/v2 and the documents from; unset: no CORS (src/http/cors.ts). */
  CORS_ALLOWED_ORIGINS?: string;
  /** Secret guarding /platform. Without it the platform API refuses every request. */
  PLATFORM_ADMIN_TOKEN?: string;
  /** Outbox events (see src/events/). */
  EVENTS_QUEUE: Queue<QueueMessage>;
  /** Base of the consumer's exponential retry backoff in seconds (default 2); 0 retries at once. */
  EVENTS_RETRY_BASE_SECONDS?: string;
  /** Webhook fan-out and deliveries (src/webhooks/), apart from EVENTS_QUEUE so slow receivers never hold up side effects. */
  WEBHOOKS_QUEUE: Queue<import("./webhooks/messages").WebhookMessage>;
  /** 32 random bytes, base64: encrypts webhook signing secrets at rest (a Worker secret). */
  WEBHOOK_SECRET_KEY?: string;
  /** "true" lets webhooks go to http://localhost and 127.0.0.1 (npm run dev); never in production. */
  WEBHOOK_ALLOW_LOCAL_URLS?: string;
  /** Rate limiter objects, one per key ("ip:<address>" or "tenant:<id>"). */
  RATE_LIMITER: DurableObjectNamespace<import("./limits/durable-object").RateLimiter>;
  /** "false" switches rate limiting off entirely (benchmarks); anything else leaves it on. */
  RATE_LIMIT_ENABLED?: string;
  RATE_LIMIT_IP_PER_SECOND?: string;
  RATE_LIMIT_TENANT_PER_SECOND?: string;
  /** More than this many rejections within RATE_LIMIT_BLOCK_WINDOW_SECONDS blocks the IP. */
  RATE_LIMIT_BLOCK_THRESHOLD?: string;
  RATE_LIMIT_BLOCK_WINDOW_SECONDS?: string;
  RATE_LIMIT_BLOCK_SECONDS?: string;
  /** Milliseconds to wait for a limiter object before serving the request anyway (default 1000). */
  RATE_LIMIT_TIMEOUT_MS?: string;
}

export type { Db } from "./core/context";

/** Per-request values set by middleware. */
export interface Variables {
  requestId: string;
  db: Db;
  tenant: TenantRecord;
  token: AuthenticatedToken;
  /** The request's database gates: the pending token check and the rate-limit admission. */
  gates: RequestGates;
  /** Scope requirements waiting for the token row (auth/middleware.ts). */
  scopeDemands?: { anyOf: import("./auth/tokens").Scope[]; error: () => import("./http/errors").ApiError }[];
  /** The request's time source; tests inject one (see core/context.ts). Absent means the wall clock. */
  clock?: Clock;
  /** A limiter injected by tests or benchmarks; absent means the Durable Objects (limits/limiter.ts). */
  limiter?: import("./limits/limiter").Limiter;
  /** The tenant's shard session (src/shards/request.ts); unset on the apex host. */
  shard?: import("./shards/request").RequestShard;
}

export interface AppEnv {
  Bindings: Env;
  Variables: Variables;
}
