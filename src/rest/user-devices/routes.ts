/** `/v1/users/{id}/devices`: a user's devices (rules in users/devices.ts). */
import { createRoute, z } from "@hono/zod-openapi";
import { demandScope, insufficientScope } from "../../auth/middleware";
import { coreContextOf } from "../../core/from-request";
import { deleteDevice, listDevices, markDeviceSeen, MAX_DEVICES_PER_USER, registerDevice } from "../../users/devices";
import { bodyErrorResponses, createRouter, errorResponses, jsonBodyOf, jsonContent, problemResponse } from "../openapi";
import { pageOf, WHOLE_LIST, wholeList } from "../../http/paging";
import { IdempotencyKeyHeader, idempotencyResponses, idempotent } from "../idempotency";

const tags = ["User devices"];
const security = [{ bearerAuth: [] }];

const DeviceSchema = z
  .object({
    id: z.string(),
    platform: z.string().nullable().openapi({ example: "iOS" }),
    model: z.string().nullable().openapi({ example: "iPhone 15" }),
    name: z.string().nullable().openapi({ example: "Jane's phone" }),
    appVersion: z.string().nullable().openapi({ example: "4.2.1" }),
    firstSeenAt: z.string().openapi({ format: "date-time" }),
    lastSeenAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("UserDevice");

const text = (max: number) => z.string().max(max).nullable().optional();
const DeviceInput = z
  .strictObject({
    id: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .max(128)
      .optional()
      .openapi({ description: "The device's own identifier; generated when absent. Registering a known id refreshes that device." }),
    platform: text(64),
    model: text(128),
    name: text(255),
    appVersion: text(64),
  })
  .openapi("UserDeviceInput");

const UserParam = z.object({ id: z.string().max(64) });
const DeviceParam = z.object({ id: z.string().max(64), deviceId: z.string().max(128) });
const gone = { 410: problemResponse("The user was erased.") };

export const userDevicesRouter = createRouter();

// Reads and writes are guarded with the users (rest/users.ts); `seen` also takes the sign-in's `auth`.
userDevicesRouter.use("/v1/users/:id/devices/:deviceId/seen", async (c, next) => {
  demandScope(c, ["users:write", "auth"], insufficientScope("users:write", "Marking a device seen needs a token with the 'users:write' or 'auth' scope."));
  await next();
});

userDevicesRouter.openapi(
  createRoute({
    method: "get",
    path: "/v1/users/{id}/devices",
    tags,
    security,
    summary: "List a user's devices",
    description: `Most recently seen first. ${WHOLE_LIST}a user has at most ${MAX_DEVICES_PER_USER} devices.`,
    request: { params: UserParam },
    responses: { 200: jsonContent(pageOf(DeviceSchema), "The devices."), ...errorResponses, ...gone },
  }),
  async (c) => {
    const data = await listDevices(coreContextOf(c), c.req.valid("param").id);
    return c.json({ data, pagination: wholeList(data.length) }, 200);
  },
);

userDevicesRouter.openapi(
  createRoute({
    method: "post",
    path: "/v1/users/{id}/devices",
    tags,
    security,
    summary: "Register a device (or refresh a known one)",
    description: `A user may have at most ${MAX_DEVICES_PER_USER} devices (409 beyond that). With a known \`id\` the device's details are replaced and it is marked seen (200).`,
    request: { headers: IdempotencyKeyHeader, params: UserParam, body: jsonBodyOf(DeviceInput) },
    middleware: [idempotent()],
    responses: {
      ...idempotencyResponses,
      201: jsonContent(DeviceSchema, "Registered. `Location` points at the device."),
      200: jsonContent(DeviceSchema, "Refreshed."),
      ...errorResponses,
      409: problemResponse(`The user already has ${MAX_DEVICES_PER_USER} devices.`),
      ...gone,
      ...bodyErrorResponses,
    },
  }),
  async (c) => {
    const userId = c.req.valid("param").id;
    const { device, created } = await registerDevice(coreContextOf(c), userId, c.req.valid("json"));
    if (!created) return c.json(device, 200);
    c.header("Location", `/v1/users/${userId}/devices/${encodeURIComponent(device.id)}`);
    return c.json(device, 201);
  },
);

userDevicesRouter.openapi(
  createRoute({
    method: "delete",
    path: "/v1/users/{id}/devices/{deviceId}",
    tags,
    security,
    summary: "Remove a device",
    request: { params: DeviceParam },
    responses: { 204: { description: "Removed." }, ...errorResponses, ...gone },
  }),
  async (c) => {
    const { id, deviceId } = c.req.valid("param");
    await deleteDevice(coreContextOf(c), id, deviceId);
    return c.body(null, 204);
  },
);

userDevicesRouter.openapi(
  createRoute({
    method: "post",
    path: "/v1/users/{id}/devices/{deviceId}/seen",
    tags,
    security,
    summary: "Mark a device seen now",
    description: "Sets `lastSeenAt` to now. Needs `users:write` or `auth`.",
    request: { params: DeviceParam },
    responses: { 200: jsonContent(DeviceSchema, "The device."), ...errorResponses, ...gone },
  }),
  async (c) => {
    const { id, deviceId } = c.req.valid("param");
    return c.json(await markDeviceSeen(coreContextOf(c), id, deviceId), 200);
  },
);
