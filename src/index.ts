/** Worker entry: HTTP requests, the queue consumers and the scheduled maintenance sweeps. */
import { createApp } from "./app";
import { createDb } from "./db/client";
import type { Env } from "./env";
import { consumeDeadLetters, consumeEvents } from "./events/consumer";
import { sweepOutbox } from "./events/dispatch";
import type { QueueMessage } from "./events/messages";
import type { WebhookMessage } from "./webhooks/messages";
import { consumeWebhooks, sweepWebhooks } from "./webhooks/queue";
import { purgeExpiredBlocks } from "./limits/blocks";
import { purgeExpiredIdempotencyKeys } from "./rest/idempotency";

export { RateLimiter } from "./limits/durable-object";

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch: MessageBatch<QueueMessage | WebhookMessage>, env: Env, _ctx: ExecutionContext) {
    // The dead-letter queue is named after the main one (wrangler.toml).
    if (batch.queue === "webhook-deliveries") await consumeWebhooks(batch as MessageBatch<WebhookMessage>, env);
    else if (batch.queue.endsWith("-dlq")) await consumeDeadLetters(batch as MessageBatch<QueueMessage>, env);
    else await consumeEvents(batch as MessageBatch<QueueMessage>, env);
  },
  async scheduled(controller, env, ctx) {
    const db = createDb(env.DB);
    // Two crons (wrangler.toml): the 5-minute one purges, the every-minute one sweeps the outbox.
    if (controller.cron === "*/5 * * * *") {
      ctx.waitUntil(purgeExpiredIdempotencyKeys(db));
      ctx.waitUntil(purgeExpiredBlocks(db));
    } else {
      ctx.waitUntil(sweepOutbox(env, db));
      ctx.waitUntil(sweepWebhooks(env, db));
    }
  },
} satisfies ExportedHandler<Env, QueueMessage | WebhookMessage>;
