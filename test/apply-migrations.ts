import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Storage is isolated per test file; this runs before each file and is idempotent. Every
// database gets the same migrations: the platform database (DB, also the first shard) and each
// further shard (wrangler.toml, SHARDS).
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await applyD1Migrations(env.SHARD_EU_1, env.TEST_MIGRATIONS);
