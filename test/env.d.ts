declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("../src/index");
    }
    interface Env {
      DB: D1Database;
      SHARD_EU_1: D1Database;
      SHARDS?: string;
      BASE_DOMAIN: string;
      PLATFORM_ADMIN_TOKEN?: string;
      TENANT_CACHE_SECONDS?: string;
      EVENTS_QUEUE: Queue<import("../src/events/messages").QueueMessage>;
      WEBHOOKS_QUEUE: Queue<import("../src/webhooks/messages").WebhookMessage>;
      WEBHOOK_SECRET_KEY?: string;
      WEBHOOK_ALLOW_LOCAL_URLS?: string;
      EVENTS_RETRY_BASE_SECONDS?: string;
      RATE_LIMITER: DurableObjectNamespace<import("../src/limits/durable-object").RateLimiter>;
      RATE_LIMIT_IP_PER_SECOND?: string;
      RATE_LIMIT_TENANT_PER_SECOND?: string;
      RATE_LIMIT_BLOCK_SECONDS?: string;
      TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
      /** test/fuzz.test.ts knobs, passed through from the shell by vitest.config.ts. */
      FUZZ_RUNS?: string;
      FUZZ_BUDGET_MS?: string;
      FUZZ_SEED?: string;
    }
  }
}
export {};
