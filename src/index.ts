/** Worker entry: HTTP requests and the scheduled maintenance sweep. */
import { createApp } from "./app";
import { createDb } from "./db/client";
import type { Env } from "./env";
import { purgeExpiredBlocks } from "./limits/blocks";
import { purgeExpiredIdempotencyKeys } from "./rest/idempotency";

export { RateLimiter } from "./limits/durable-object";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(purgeExpiredIdempotencyKeys(createDb(env.DB)));
    ctx.waitUntil(purgeExpiredBlocks(createDb(env.DB)));
  },
} satisfies ExportedHandler<Env>;
