import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

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
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      setupFiles: ["./test/apply-migrations.ts"],
      // Generous: CI machines are shared, and seeding hooks create hundreds of users.
      testTimeout: 60_000,
      hookTimeout: 120_000,
    },
  };
});
