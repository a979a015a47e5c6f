/** Worker entry: HTTP requests and the scheduled maintenance sweep. */
import { createApp } from "./app";
import { createDb } from "./db/client";
import type { Env } from "./env";
import { purgeExpiredIdempotencyKeys } from "./rest/idempotency";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(purgeExpiredIdempotencyKeys(createDb(env.DB)));
  },
} satisfies ExportedHandler<Env>;
