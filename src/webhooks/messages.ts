/** Messages on the webhooks queue. Small: the rows are the payload. */
export type WebhookMessage =
  /** Turn the tenant's new feed events into deliveries for its endpoints (fanout.ts). */
  | { t: "fanout"; tenantId: string }
  /** Make the next attempt of one delivery (deliver.ts). */
  | { t: "deliver"; tenantId: string; deliveryId: string };
