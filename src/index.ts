/** Worker entry: HTTP requests, the queue consumers and the scheduled maintenance sweeps. */
import { createApp } from "./app";
import { createDb } from "./db/client";
import type { Env } from "./env";
import { consumeDeadLetters, consumeEvents } from "./events/consumer";
import { sweepOutbox } from "./events/dispatch";
import type { QueueMessage } from "./events/messages";
import type { WebhookMessage } from "./webhooks/messages";
import { consumeWebhooks, sweepWebhooks } from "./webhooks/queue";
import { purgeExpiredConsoleState } from "./console/sessions";
import { purgeExpiredBlocks } from "./limits/blocks";
import { purgeExpiredIdempotencyKeys } from "./rest/idempotency";
import { shardBinding, shardList } from "./shards/config";
import { resumeStalledMoves, runMoveStep } from "./shards/move";
import { pruneAllShards } from "./shards/retention";

export { RateLimiter } from "./limits/durable-object";

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    // The dead-letter queue is named after the main one (wrangler.toml).
    if (batch.queue === "webhook-deliveries") return consumeWebhooks(batch as unknown as MessageBatch<WebhookMessage>, env);
    // Move steps share the events queue (src/shards/move.ts); each is acked once it ran.
    const moves = batch.messages.filter((m) => m.body.t === "move");
    if (moves.length > 0) {
      for (const m of moves) if (m.body.t === "move") await runMoveStep(env, m.body.moveId).then(() => m.ack());
      batch = { ...batch, messages: batch.messages.filter((m) => m.body.t !== "move") } as typeof batch;
      if (batch.messages.length === 0) return;
    }
    if (batch.queue.endsWith("-dlq")) await consumeDeadLetters(batch, env);
    else await consumeEvents(batch, env);
  },
  async scheduled(controller, env, ctx) {
    const db = createDb(env.DB);
    // Two crons (wrangler.toml): the 5-minute one purges (every shard) and prunes past each
    // tenant's retention window; the every-minute one sweeps every shard's outbox and resumes moves.
    const shards = shardList(env).map((s) => ({ name: s.name, db: createDb(shardBinding(env, s)) }));
    if (controller.cron === "*/5 * * * *") {
      for (const shard of shards) ctx.waitUntil(purgeExpiredIdempotencyKeys(shard.db));
      for (const shard of shards) ctx.waitUntil(purgeExpiredConsoleState(shard.db, Date.now()));
      ctx.waitUntil(purgeExpiredBlocks(db));
      ctx.waitUntil(pruneAllShards(env));
    } else {
      for (const shard of shards) ctx.waitUntil(sweepOutbox(env, shard.db, Date.now(), shard.name));
      ctx.waitUntil(resumeStalledMoves(env));
      for (const shard of shards) ctx.waitUntil(sweepWebhooks(env, shard.db));
    }
  },
} satisfies ExportedHandler<Env, QueueMessage>;
