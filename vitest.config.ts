import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// wrangler's config reader would print "Using secrets defined in .dev.vars" for every worker pool.
process.env.WRANGLER_LOG ??= "warn";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "drizzle"));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        remoteBindings: false,
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            BASE_DOMAIN: "example.test",
            PLATFORM_ADMIN_TOKEN: "test-platform-admin-token",
            TENANT_CACHE_SECONDS: "0",
            // Queue retries without backoff delays, so failure tests finish quickly.
            EVENTS_RETRY_BASE_SECONDS: "0",
            // Suites send bursts from one (absent) IP; the limits tests set 10/50 per tenant
            // through the platform API and use distinct IPs (test/limits.test.ts).
            RATE_LIMIT_IP_PER_SECOND: "100000",
            RATE_LIMIT_TENANT_PER_SECOND: "100000",
            RATE_LIMIT_BLOCK_SECONDS: "3",
            // Local Durable Objects share one process with everything else; do not let a busy
            // machine turn into fail-open admissions in the exactness tests.
            RATE_LIMIT_TIMEOUT_MS: "10000",
            // test/fuzz.test.ts: reproduce with FUZZ_SEED=<seed>, or run longer with FUZZ_RUNS/FUZZ_BUDGET_MS.
            ...Object.fromEntries(["FUZZ_RUNS", "FUZZ_BUDGET_MS", "FUZZ_SEED"].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : []))),
            // A fixed test key for webhook signing secrets at rest (production: a Worker secret).
            WEBHOOK_SECRET_KEY: "dGVzdC13ZWJob29rLXNlY3JldC1rZXktMzItYnl0ZXM=",
            // Production policy in tests, whatever `npm run dev` wrote to .dev.vars.
            WEBHOOK_ALLOW_LOCAL_URLS: "false",
          },
          // Deliver queue batches almost at once instead of after wrangler.toml's timeout.
          queueConsumers: {
            "provisioning-events": { maxBatchTimeout: 0.05, maxRetries: 5, deadLetterQueue: "provisioning-events-dlq" },
            "provisioning-events-dlq": { maxBatchTimeout: 0.05 },
            "webhook-deliveries": { maxBatchTimeout: 0.05, maxRetries: 10 },
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      setupFiles: ["./test/apply-migrations.ts"],
      // Generous: CI machines are shared, and seeding hooks create hundreds of users.
      testTimeout: 60_000,
      // Many passing tests provoke errors on purpose, and the Worker logs them: show a test's
      // console output only when it fails.
      silent: "passed-only" as const,
      hookTimeout: 120_000,
    },
  };
});
