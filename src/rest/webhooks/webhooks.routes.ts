/** Route contracts for `/v1/webhooks` (handlers in webhooks.handlers.ts). Admin scope throughout. */
import { pageOf } from "../../http/paging";
import { MAX_ENDPOINTS_PER_TENANT } from "../../webhooks/fanout";
import { createRoute, z } from "@hono/zod-openapi";
import { bodyErrorResponses, errorResponses, jsonBodyOf, jsonContent, problemResponse } from "../openapi";
import { RETRY_DELAYS_SECONDS } from "../../webhooks/schedule";
import { IdempotencyKeyHeader, idempotencyResponses, idempotent, SECRET_REPLAY_NOTE } from "../idempotency";

const tags = ["Webhooks"];
const security = [{ bearerAuth: [] }];

export const EndpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.string()),
    enabled: z.boolean(),
    disabledReason: z.enum(["manual", "gone", "failing"]).nullable().openapi({ description: "`gone`: the receiver answered 410; `failing`: 5 days of failures." }),
    disabledAt: z.string().nullable(),
    previousSecretExpiresAt: z.string().nullable().openapi({ description: "During a rotation: until when the old secret still signs." }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("WebhookEndpoint");

const WithSecret = z.object({
  endpoint: EndpointSchema,
  secret: z.string().openapi({ description: "The signing secret (whsec_...). Shown only in this response.", example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
});

const events = z
  .array(z.string().max(100))
  .min(1, "must list at least one event type or pattern")
  .max(50)
  .openapi({ description: "Event types (`user.created`), prefixes (`membership.*`) or `*`.", example: ["user.created", "membership.*"] });

const CreateSchema = z
  .strictObject({
    url: z.string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") }).openapi({ example: "https://hooks.example.com/provisioning" }),
    events,
    description: z.string().max(500).nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .openapi("WebhookEndpointCreate");

const PatchSchema = z
  .strictObject({ url: z.string().optional(), events: events.optional(), description: z.string().max(500).nullable().optional(), enabled: z.boolean().optional() })
  .openapi("WebhookEndpointPatch");

export const DeliverySchema = z
  .object({
    id: z.string().openapi({ description: "The `webhook-id` header: the same on every retry and redelivery." }),
    eventId: z.string(),
    eventType: z.string(),
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.number().int(),
    lastAttemptAt: z.string().nullable(),
    lastResponseStatus: z.number().int().nullable(),
    lastDurationMs: z.number().int().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("WebhookDelivery");

const IdParam = z.object({ id: z.string().max(64).openapi({ param: { name: "id", in: "path" } }) });
const DeliveryParams = IdParam.extend({ deliveryId: z.string().max(64).openapi({ param: { name: "deliveryId", in: "path" } }) });
const conflict = { 409: problemResponse("Too many endpoints, or the endpoint is disabled.") };
const schedule = RETRY_DELAYS_SECONDS.join(", ");

export const createEndpointRoute = createRoute({
  method: "post",
  path: "/v1/webhooks",
  tags,
  security,
  summary: "Register a webhook endpoint",
  description:
    "Events the endpoint subscribes to are POSTed to it, signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature). " +
    `A non-2xx answer or no answer within 10 s is retried after about ${schedule} seconds (±10%); 410 disables the endpoint.` +
    SECRET_REPLAY_NOTE,
  request: { headers: IdempotencyKeyHeader, body: jsonBodyOf(CreateSchema) },
  middleware: [idempotent({ secret: "the endpoint's signing secret" })],
  responses: { ...idempotencyResponses, 201: jsonContent(WithSecret, "The endpoint and its signing secret."), ...errorResponses, ...bodyErrorResponses, ...conflict },
});

export const listEndpointsRoute = createRoute({
  method: "get",
  path: "/v1/webhooks",
  tags,
  security,
  summary: "List webhook endpoints",
  description: `Every endpoint, in one page: a tenant has at most ${MAX_ENDPOINTS_PER_TENANT}, so \`pagination\` is always \`hasMore: false, nextCursor: null\`.`,
  responses: { 200: jsonContent(pageOf(EndpointSchema), "Every endpoint."), ...errorResponses },
});

export const getEndpointRoute = createRoute({
  method: "get",
  path: "/v1/webhooks/{id}",
  tags,
  security,
  summary: "Get a webhook endpoint",
  request: { params: IdParam },
  responses: { 200: jsonContent(EndpointSchema, "The endpoint."), ...errorResponses },
});

export const patchEndpointRoute = createRoute({
  method: "patch",
  path: "/v1/webhooks/{id}",
  tags,
  security,
  summary: "Change, disable or re-enable a webhook endpoint",
  description: "A re-enabled endpoint receives what happens from then on, not the backlog.",
  request: { params: IdParam, body: jsonBodyOf(PatchSchema) },
  responses: { 200: jsonContent(EndpointSchema, "The endpoint."), ...errorResponses, ...bodyErrorResponses },
});

export const deleteEndpointRoute = createRoute({
  method: "delete",
  path: "/v1/webhooks/{id}",
  tags,
  security,
  summary: "Delete a webhook endpoint and its deliveries",
  request: { params: IdParam },
  responses: { 204: { description: "Deleted." }, ...errorResponses },
});

export const rotateSecretRoute = createRoute({
  method: "post",
  path: "/v1/webhooks/{id}/rotate-secret",
  tags,
  security,
  summary: "Rotate the signing secret",
  description: "The new secret signs at once; the old one keeps signing alongside it (two signatures in webhook-signature) for 24 hours.",
  request: { params: IdParam },
  responses: { 200: jsonContent(WithSecret, "The endpoint and its new secret."), ...errorResponses },
});

export const testEndpointRoute = createRoute({
  method: "post",
  path: "/v1/webhooks/{id}/test",
  tags,
  security,
  summary: "Send a webhook.test event to this endpoint",
  request: { params: IdParam },
  responses: { 202: jsonContent(z.object({ eventId: z.string(), deliveryId: z.string() }), "Queued."), ...errorResponses, ...conflict },
});

export const listDeliveriesRoute = createRoute({
  method: "get",
  path: "/v1/webhooks/{id}/deliveries",
  tags,
  security,
  summary: "Deliveries to this endpoint, newest first",
  request: {
    params: IdParam,
    query: z.object({ limit: z.coerce.number().int().min(1).max(100).optional(), cursor: z.string().max(512).optional() }),
  },
  responses: {
    200: jsonContent(
      pageOf(DeliverySchema),
      "A page of deliveries.",
    ),
    ...errorResponses,
  },
});

export const redeliverRoute = createRoute({
  method: "post",
  path: "/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver",
  tags,
  security,
  summary: "Send a delivery again",
  description: "Same webhook-id, the event as the feed shows it now, and a fresh retry schedule.",
  request: { params: DeliveryParams },
  responses: { 202: jsonContent(DeliverySchema, "Queued."), ...errorResponses, ...conflict },
});
