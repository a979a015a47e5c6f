/**
 * Webhook endpoints: the rules for creating, changing, rotating, testing and redelivering, once,
 * for any adapter. Every operation is one read round trip and (for writes) one write batch with
 * its `webhook_endpoint.*` event, so the audit trail records who did it.
 */
import { and, count, desc, eq, lt, sql } from "drizzle-orm";
import type { CoreContext } from "../core/context";
import { events } from "../db/schema";
import type { Env } from "../env";
import { insertEvent } from "../events/outbox";
import { ApiError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import { deliveryIdOf, MAX_ENDPOINTS_PER_TENANT } from "./fanout";
import { patternProblem } from "./patterns";
import { encryptSecret, generateSigningSecret } from "./secrets";
import { webhookDeliveries, webhookEndpoints } from "../db/schema";
import { allowLocalUrls, webhookUrlProblem } from "./url-policy";

export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

type EndpointRow = typeof webhookEndpoints.$inferSelect;
type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export interface EndpointInput {
  url?: string;
  events?: string[];
  description?: string | null;
  enabled?: boolean;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What the API shows of an endpoint: never a secret. */
export function endpointView(row: EndpointRow, now: number) {
  const overlap = row.previousSecret !== null && (row.previousSecretExpiresAt ?? 0) > now;
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: JSON.parse(row.events) as string[],
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    disabledAt: iso(row.disabledAt),
    previousSecretExpiresAt: overlap ? iso(row.previousSecretExpiresAt) : null,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

export function deliveryView(row: DeliveryRow) {
  return {
    id: row.id,
    eventId: row.eventId,
    eventType: row.eventType,
    status: row.status,
    attempts: row.attempts,
    lastAttemptAt: iso(row.lastAttemptAt),
    lastResponseStatus: row.lastStatus,
    lastDurationMs: row.lastDurationMs,
    lastError: row.lastError,
    nextAttemptAt: row.status === "pending" ? iso(row.nextAttemptAt) : null,
    deliveredAt: iso(row.deliveredAt),
    createdAt: new Date(row.createdAt).toISOString(),
  };
}

function invalid(path: string, message: string): ApiError {
  return new ApiError("validation_failed", `${path}: ${message}`, { errors: [{ path, message }] });
}

function checkInput(env: Env, input: EndpointInput): void {
  if (input.url !== undefined) {
    const problem = webhookUrlProblem(input.url, allowLocalUrls(env));
    if (problem) throw invalid("url", problem);
  }
  input.events?.forEach((p, i) => {
    const problem = patternProblem(p);
    if (problem) throw invalid(`events[${i}]`, problem);
  });
}

const ofTenant = (ctx: CoreContext, id: string) => and(eq(webhookEndpoints.tenantId, ctx.tenantId), eq(webhookEndpoints.id, id));

export async function getEndpoint(ctx: CoreContext, id: string): Promise<EndpointRow> {
  const row = await ctx.db.select().from(webhookEndpoints).where(ofTenant(ctx, id)).get();
  if (!row) throw new ApiError("not_found", `No webhook endpoint with id '${id}' exists in this tenant.`);
  return row;
}

export async function listEndpoints(ctx: CoreContext): Promise<EndpointRow[]> {
  return ctx.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.tenantId, ctx.tenantId)).orderBy(webhookEndpoints.id).limit(MAX_ENDPOINTS_PER_TENANT).all();
}

/** The feed position an endpoint starts from: it receives what happens after it exists. */
const feedEnd = (tenantId: string) => sql`(SELECT coalesce(max(${events.seq}), 0) FROM ${events} WHERE ${events.tenantId} = ${tenantId})`;

export async function createEndpoint(ctx: CoreContext, env: Env, input: Required<Pick<EndpointInput, "url" | "events">> & EndpointInput) {
  checkInput(env, input);
  const existing = await ctx.db.select({ n: count() }).from(webhookEndpoints).where(eq(webhookEndpoints.tenantId, ctx.tenantId)).get();
  if ((existing?.n ?? 0) >= MAX_ENDPOINTS_PER_TENANT) {
    throw new ApiError("conflict", `A tenant can have at most ${MAX_ENDPOINTS_PER_TENANT} webhook endpoints; delete one first.`);
  }
  const now = ctx.clock.now();
  const id = uuidv7(now);
  const secret = generateSigningSecret();
  const row: EndpointRow = {
    tenantId: ctx.tenantId,
    id,
    url: input.url,
    description: input.description ?? null,
    events: JSON.stringify([...new Set(input.events)]),
    enabled: input.enabled ?? true,
    disabledReason: input.enabled === false ? "manual" : null,
    disabledAt: input.enabled === false ? now : null,
    secret: await encryptSecret(env, { tenantId: ctx.tenantId, endpointId: id }, secret),
    previousSecret: null,
    previousSecretExpiresAt: null,
    cursorSeq: 0,
    failingSince: null,
    createdAt: now,
    updatedAt: now,
  };
  const view = endpointView(row, now);
  await ctx.db.batch([
    ctx.db.insert(webhookEndpoints).values({ ...row, cursorSeq: feedEnd(ctx.tenantId) }),
    insertEvent(ctx.db, { tenantId: ctx.tenantId, type: "webhook_endpoint.created", subjectId: id, data: { endpoint: view }, createdAt: now, status: "processed" }),
  ]);
  return { endpoint: view, secret };
}

export async function updateEndpoint(ctx: CoreContext, env: Env, id: string, input: EndpointInput) {
  checkInput(env, input);
  const row = await getEndpoint(ctx, id);
  const now = ctx.clock.now();
  const changes: Record<string, unknown> = {};
  const set: Partial<typeof webhookEndpoints.$inferInsert> = { updatedAt: now };
  if (input.url !== undefined && input.url !== row.url) set.url = changes.url = input.url;
  if (input.description !== undefined && input.description !== row.description) set.description = changes.description = input.description;
  if (input.events !== undefined) {
    const events = JSON.stringify([...new Set(input.events)]);
    if (events !== row.events) {
      set.events = events;
      changes.events = JSON.parse(events);
    }
  }
  if (input.enabled !== undefined && input.enabled !== row.enabled) {
    changes.enabled = input.enabled;
    Object.assign(set, input.enabled ? { enabled: true, disabledReason: null, disabledAt: null, failingSince: null } : { enabled: false, disabledReason: "manual", disabledAt: now });
    // Re-enabled: delivery resumes with what happens from now on, not with the backlog.
    if (input.enabled) set.cursorSeq = feedEnd(ctx.tenantId) as unknown as number;
  }
  if (Object.keys(changes).length === 0) return endpointView(row, now);
  await ctx.db.batch([
    ctx.db.update(webhookEndpoints).set(set).where(ofTenant(ctx, id)),
    insertEvent(ctx.db, { tenantId: ctx.tenantId, type: "webhook_endpoint.updated", subjectId: id, data: { changes }, createdAt: now, status: "processed" }),
  ]);
  return endpointView({ ...row, ...(set as Partial<EndpointRow>), cursorSeq: row.cursorSeq }, now);
}

export async function deleteEndpoint(ctx: CoreContext, id: string): Promise<void> {
  const row = await getEndpoint(ctx, id);
  const now = ctx.clock.now();
  await ctx.db.batch([
    ctx.db.delete(webhookEndpoints).where(ofTenant(ctx, id)),
    ctx.db.delete(webhookDeliveries).where(and(eq(webhookDeliveries.tenantId, ctx.tenantId), eq(webhookDeliveries.endpointId, id))),
    insertEvent(ctx.db, { tenantId: ctx.tenantId, type: "webhook_endpoint.deleted", subjectId: id, data: { id, url: row.url }, createdAt: now, status: "processed" }),
  ]);
}

/** A new secret signs from now on; the old one keeps signing alongside it for ROTATION_OVERLAP_MS. */
export async function rotateSecret(ctx: CoreContext, env: Env, id: string) {
  const row = await getEndpoint(ctx, id);
  const now = ctx.clock.now();
  const secret = generateSigningSecret();
  const set = {
    secret: await encryptSecret(env, { tenantId: ctx.tenantId, endpointId: id }, secret),
    previousSecret: row.secret,
    previousSecretExpiresAt: now + ROTATION_OVERLAP_MS,
    updatedAt: now,
  };
  await ctx.db.batch([
    ctx.db.update(webhookEndpoints).set(set).where(ofTenant(ctx, id)),
    insertEvent(ctx.db, {
      tenantId: ctx.tenantId,
      type: "webhook_endpoint.secret_rotated",
      subjectId: id,
      data: { id, previousSecretExpiresAt: iso(set.previousSecretExpiresAt) },
      createdAt: now,
      status: "processed",
    }),
  ]);
  return { endpoint: endpointView({ ...row, ...set }, now), secret };
}

/** A `webhook.test` event, delivered to this endpoint only. */
export async function sendTestEvent(ctx: CoreContext, id: string) {
  const row = await getEndpoint(ctx, id);
  if (!row.enabled) throw new ApiError("conflict", "The endpoint is disabled; enable it (PATCH enabled: true) before sending a test event.");
  const now = ctx.clock.now();
  const eventId = uuidv7(now);
  const deliveryId = await deliveryIdOf(row.id, eventId);
  await ctx.db.batch([
    insertEvent(ctx.db, { id: eventId, tenantId: ctx.tenantId, type: "webhook.test", subjectId: id, data: { endpointId: id, message: "This is a test event." }, createdAt: now, status: "processed" }),
    ctx.db.insert(webhookDeliveries).select(
      ctx.db
        .select({
          tenantId: sql`${ctx.tenantId}`.as("tenant_id"),
          id: sql`${deliveryId}`.as("id"),
          endpointId: sql`${id}`.as("endpoint_id"),
          eventId: events.id,
          eventSeq: events.seq,
          eventType: events.type,
          status: sql`'pending'`.as("status"),
          attempts: sql`0`.as("attempts"),
          retries: sql`0`.as("retries"),
          nextAttemptAt: sql`${now}`.as("next_attempt_at"),
          lastAttemptAt: sql`NULL`.as("last_attempt_at"),
          lastStatus: sql`NULL`.as("last_status"),
          lastDurationMs: sql`NULL`.as("last_duration_ms"),
          lastError: sql`NULL`.as("last_error"),
          deliveredAt: sql`NULL`.as("delivered_at"),
          createdAt: sql`${now}`.as("created_at"),
        })
        .from(events)
        .where(and(eq(events.tenantId, ctx.tenantId), eq(events.id, eventId))),
    ),
  ]);
  return { eventId, deliveryId, enabled: row.enabled };
}

export async function listDeliveries(ctx: CoreContext, endpointId: string, limit: number, beforeSeq: number | null) {
  const ofEndpoint = and(eq(webhookDeliveries.tenantId, ctx.tenantId), eq(webhookDeliveries.endpointId, endpointId));
  const [endpoint, rows] = await ctx.db.batch([
    ctx.db.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(ofTenant(ctx, endpointId)),
    ctx.db
      .select()
      .from(webhookDeliveries)
      .where(beforeSeq === null ? ofEndpoint : and(ofEndpoint, lt(webhookDeliveries.eventSeq, beforeSeq)))
      .orderBy(desc(webhookDeliveries.eventSeq))
      .limit(limit + 1),
  ]);
  if (endpoint.length === 0) throw new ApiError("not_found", `No webhook endpoint with id '${endpointId}' exists in this tenant.`);
  return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
}

/** Sends a delivery again (same webhook-id), with a fresh retry schedule. */
export async function redeliver(ctx: CoreContext, endpointId: string, deliveryId: string) {
  const where = and(eq(webhookDeliveries.tenantId, ctx.tenantId), eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.id, deliveryId));
  const [endpoint, delivery] = await ctx.db.batch([
    ctx.db.select().from(webhookEndpoints).where(ofTenant(ctx, endpointId)),
    ctx.db.select().from(webhookDeliveries).where(where),
  ]);
  if (!endpoint[0] || !delivery[0]) throw new ApiError("not_found", `No delivery '${deliveryId}' exists for webhook endpoint '${endpointId}'.`);
  if (!endpoint[0].enabled) throw new ApiError("conflict", "The endpoint is disabled; enable it (PATCH enabled: true) before redelivering.");
  const now = ctx.clock.now();
  await ctx.db.update(webhookDeliveries).set({ status: "pending", retries: 0, nextAttemptAt: now, deliveredAt: null }).where(where);
  return deliveryView({ ...delivery[0], status: "pending", retries: 0, nextAttemptAt: now, deliveredAt: null });
}
