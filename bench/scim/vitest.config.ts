/** Runs the SCIM lookup benchmark in workerd with local D1: `npm run bench:scim` (SCIM_BENCH_USERS=1000000). */
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const root = path.join(import.meta.dirname, "..", "..");

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(root, "drizzle"));
  return {
    root,
    plugins: [
      cloudflareTest({
        wrangler: { configPath: path.join(root, "wrangler.toml") },
        remoteBindings: false,
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            BASE_DOMAIN: "example.test",
            PLATFORM_ADMIN_TOKEN: "test-platform-admin-token",
            // The tenant cache as in production (5 s), so requests measure D1, not host resolution.
            TENANT_CACHE_SECONDS: "5",
            // Limiting stays on (its Durable Object round trip is part of every request) but high.
            RATE_LIMIT_IP_PER_SECOND: "100000",
            RATE_LIMIT_TENANT_PER_SECOND: "100000",
            SCIM_BENCH_USERS: process.env.SCIM_BENCH_USERS ?? "1000000",
            SCIM_BENCH_ITERATIONS: process.env.SCIM_BENCH_ITERATIONS ?? "300",
          },
        },
      }),
    ],
    test: {
      include: ["bench/scim/*.bench-test.ts"],
      setupFiles: ["./test/apply-migrations.ts"],
      testTimeout: 1_800_000,
      hookTimeout: 1_800_000,
    },
  };
});
