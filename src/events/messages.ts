/** Bodies of messages on the events queue. Small on purpose: the outbox row is the payload. */
export type QueueMessage =
  /** Apply the side effects of one outbox event. */
  | { t: "event"; tenantId: string; eventId: string; shard?: string }
  /** Apply a collection's audience rule to the next page of users (after the user id `after`). */
  | { t: "rule-page"; tenantId: string; collectionId: string; ruleVersion: number; after: string | null }
  /** Run the next step of a tenant's move between shards (src/shards/move.ts). */
  | { t: "move"; tenantId: string; moveId: string };
