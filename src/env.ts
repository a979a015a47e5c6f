import type { DrizzleD1Database } from "drizzle-orm/d1";
import type * as schema from "./db/schema";
import type { TenantRecord } from "./tenancy/resolve";
import type { AuthenticatedToken } from "./auth/tokens";
import type { QueueMessage } from "./events/messages";

/** Bindings and variables declared in wrangler.toml (and secrets from .dev.vars locally). */
export interface Env {
  DB: D1Database;
  BASE_DOMAIN: string;
  TENANT_CACHE_SECONDS?: string;
  /** Secret guarding /platform. Without it the platform API refuses every request. */
  PLATFORM_ADMIN_TOKEN?: string;
  /** Outbox events (see src/events/). */
  EVENTS_QUEUE: Queue<QueueMessage>;
  /** Base of the consumer's exponential retry backoff in seconds (default 2); 0 retries at once. */
  EVENTS_RETRY_BASE_SECONDS?: string;
}

export type Db = DrizzleD1Database<typeof schema> & { $client: D1Database };

/** Per-request values set by middleware. */
export interface Variables {
  requestId: string;
  db: Db;
  tenant: TenantRecord;
  token: AuthenticatedToken;
}

export interface AppEnv {
  Bindings: Env;
  Variables: Variables;
}
