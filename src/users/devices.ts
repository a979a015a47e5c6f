/**
 * A user's devices (the seed's UserDevices): registered or refreshed by POST, marked seen, deleted.
 * Every statement names tenant and user, so a device id never reaches across either. At most
 * MAX_DEVICES_PER_USER per user, enforced inside the INSERT itself so that concurrent
 * registrations cannot overshoot it. Reads are one round trip, writes two (read, then write).
 */
import { and, asc, eq, sql } from "drizzle-orm";
import { batchableRun } from "../db/client";
import { userDevices } from "../db/schema";
import type { CoreContext } from "../core/context";
import { ApiError } from "../http/errors";
import { readUserWith } from "./reads";

export const MAX_DEVICES_PER_USER = 50;

type DeviceRow = typeof userDevices.$inferSelect;

export interface Device {
  id: string;
  platform: string | null;
  model: string | null;
  name: string | null;
  appVersion: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
}

export interface DeviceInput {
  id?: string;
  platform?: string | null;
  model?: string | null;
  name?: string | null;
  appVersion?: string | null;
}

export function toDevice(row: DeviceRow): Device {
  return {
    id: row.id,
    platform: row.platform,
    model: row.model,
    name: row.name,
    appVersion: row.appVersion,
    firstSeenAt: new Date(row.firstSeenAt).toISOString(),
    lastSeenAt: new Date(row.lastSeenAt).toISOString(),
  };
}

function ofUser(ctx: CoreContext, userId: string) {
  return and(eq(userDevices.tenantId, ctx.tenantId), eq(userDevices.userId, userId));
}

function deviceQuery(ctx: CoreContext, userId: string, id: string) {
  return ctx.db.select().from(userDevices).where(and(ofUser(ctx, userId), eq(userDevices.id, id)));
}

function notFound(userId: string, id: string): ApiError {
  return new ApiError("not_found", `User '${userId}' has no device with id '${id}'.`);
}

/** All of a user's devices (at most 50), most recently seen first. 404 / 410 for the user. */
export async function listDevices(ctx: CoreContext, userId: string): Promise<Device[]> {
  const [, rows] = await readUserWith(ctx, userId, [ctx.db.select().from(userDevices).where(ofUser(ctx, userId)).orderBy(sql`${userDevices.lastSeenAt} DESC`, asc(userDevices.id))]);
  return rows.map(toDevice);
}

/**
 * Registers a device, or refreshes a known one (same id: its details are replaced by those sent
 * and it is marked seen). `created` tells which.
 */
export async function registerDevice(ctx: CoreContext, userId: string, input: DeviceInput): Promise<{ device: Device; created: boolean }> {
  const id = input.id ?? crypto.randomUUID();
  const [, existing, counted] = await readUserWith(ctx, userId, [
    deviceQuery(ctx, userId, id),
    ctx.db.select({ n: sql<number>`count(*)` }).from(userDevices).where(ofUser(ctx, userId)),
  ]);
  const known = existing.length > 0;
  const full = () =>
    new ApiError("conflict", `User '${userId}' already has ${MAX_DEVICES_PER_USER} devices, the most a user may have; delete one first (DELETE /v1/users/${userId}/devices/{deviceId}).`, {
      extra: { limit: MAX_DEVICES_PER_USER },
    });
  if (!known && (counted[0]?.n ?? 0) >= MAX_DEVICES_PER_USER) throw full();
  const now = ctx.clock.now();
  const v = { platform: input.platform ?? null, model: input.model ?? null, name: input.name ?? null, appVersion: input.appVersion ?? null };
  const [, rows] = await ctx.db.batch([
    // The limit is re-checked in the statement: a concurrent registration cannot push past it.
    batchableRun(
      ctx.db,
      sql`INSERT INTO user_devices (tenant_id, user_id, id, platform, model, name, app_version, first_seen_at, last_seen_at)
        SELECT ${ctx.tenantId}, ${userId}, ${id}, ${v.platform}, ${v.model}, ${v.name}, ${v.appVersion}, ${now}, ${now}
        WHERE (SELECT count(*) FROM user_devices WHERE tenant_id = ${ctx.tenantId} AND user_id = ${userId}) < ${MAX_DEVICES_PER_USER}
           OR EXISTS (SELECT 1 FROM user_devices WHERE tenant_id = ${ctx.tenantId} AND user_id = ${userId} AND id = ${id})
        ON CONFLICT (tenant_id, user_id, id) DO UPDATE SET platform = excluded.platform, model = excluded.model, name = excluded.name,
           app_version = excluded.app_version, last_seen_at = max(user_devices.last_seen_at, excluded.last_seen_at)`,
    ),
    deviceQuery(ctx, userId, id),
  ]);
  const row = (rows as DeviceRow[])[0];
  if (!row) throw full();
  return { device: toDevice(row), created: !known };
}

/** Marks a device seen now. */
export async function markDeviceSeen(ctx: CoreContext, userId: string, id: string): Promise<Device> {
  const now = ctx.clock.now();
  const [, rows] = await readUserWith(ctx, userId, [
    ctx.db
      .update(userDevices)
      .set({ lastSeenAt: sql`max(${userDevices.lastSeenAt}, ${now})` })
      .where(and(ofUser(ctx, userId), eq(userDevices.id, id)))
      .returning(),
  ]);
  if (!rows[0]) throw notFound(userId, id);
  return toDevice(rows[0]);
}

export async function deleteDevice(ctx: CoreContext, userId: string, id: string): Promise<void> {
  const [, rows] = await readUserWith(ctx, userId, [ctx.db.delete(userDevices).where(and(ofUser(ctx, userId), eq(userDevices.id, id))).returning({ id: userDevices.id })]);
  if (rows.length === 0) throw notFound(userId, id);
}

/** Erasure removes a user's devices with the rest of their personal data. */
export function deleteDevicesOf(ctx: CoreContext, userId: string) {
  return ctx.db.delete(userDevices).where(ofUser(ctx, userId));
}
