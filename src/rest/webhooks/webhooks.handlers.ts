/** `/v1/webhooks` handlers: translate HTTP <-> the webhooks core (src/webhooks/endpoints.ts). */
import { requireScope } from "../../auth/middleware";
import { coreContextOf } from "../../core/from-request";
import { decodeCursor, encodeCursor } from "../../http/cursor";
import { pagination, wholeList } from "../../http/paging";
import * as endpoints from "../../webhooks/endpoints";
import { queueAttempt } from "../../webhooks/queue";
import { createRouter } from "../openapi";
import * as routes from "./webhooks.routes";

export const webhooksRouter = createRouter();

webhooksRouter.use("/v1/webhooks", requireScope("admin"));
webhooksRouter.use("/v1/webhooks/*", requireScope("admin"));

webhooksRouter.openapi(routes.createEndpointRoute, async (c) => {
  const created = await endpoints.createEndpoint(coreContextOf(c), c.env, c.req.valid("json"));
  return c.json(created, 201, { Location: `/v1/webhooks/${created.endpoint.id}` });
});

webhooksRouter.openapi(routes.listEndpointsRoute, async (c) => {
  const ctx = coreContextOf(c);
  const rows = await endpoints.listEndpoints(ctx);
  return c.json({ data: rows.map((r) => endpoints.endpointView(r, ctx.clock.now())), pagination: wholeList(rows.length) }, 200);
});

webhooksRouter.openapi(routes.getEndpointRoute, async (c) => {
  const ctx = coreContextOf(c);
  return c.json(endpoints.endpointView(await endpoints.getEndpoint(ctx, c.req.valid("param").id), ctx.clock.now()), 200);
});

webhooksRouter.openapi(routes.patchEndpointRoute, async (c) => {
  return c.json(await endpoints.updateEndpoint(coreContextOf(c), c.env, c.req.valid("param").id, c.req.valid("json")), 200);
});

webhooksRouter.openapi(routes.deleteEndpointRoute, async (c) => {
  await endpoints.deleteEndpoint(coreContextOf(c), c.req.valid("param").id);
  return c.body(null, 204);
});

webhooksRouter.openapi(routes.rotateSecretRoute, async (c) => {
  return c.json(await endpoints.rotateSecret(coreContextOf(c), c.env, c.req.valid("param").id), 200);
});

webhooksRouter.openapi(routes.testEndpointRoute, async (c) => {
  const ctx = coreContextOf(c);
  const { eventId, deliveryId } = await endpoints.sendTestEvent(ctx, c.req.valid("param").id);
  const now = ctx.clock.now();
  c.executionCtx.waitUntil(queueAttempt(c.env, ctx.tenantId, deliveryId, now, now).catch((err) => console.warn("webhooks: test send failed; the sweep will send it", String(err))));
  return c.json({ eventId, deliveryId }, 202);
});

webhooksRouter.openapi(routes.listDeliveriesRoute, async (c) => {
  const q = c.req.valid("query");
  const limit = q.limit ?? 50;
  const before = q.cursor ? Number(decodeCursor(q.cursor, "deliveries", 1)[0]) : null;
  const { rows, hasMore } = await endpoints.listDeliveries(coreContextOf(c), c.req.valid("param").id, limit, before);
  const nextCursor = hasMore ? encodeCursor({ o: "deliveries", k: [rows[rows.length - 1]!.eventSeq] }) : null;
  return c.json({ data: rows.map(endpoints.deliveryView), pagination: pagination(c, { limit, hasMore, nextCursor }) }, 200);
});

webhooksRouter.openapi(routes.redeliverRoute, async (c) => {
  const ctx = coreContextOf(c);
  const { id, deliveryId } = c.req.valid("param");
  const view = await endpoints.redeliver(ctx, id, deliveryId);
  const now = ctx.clock.now();
  c.executionCtx.waitUntil(queueAttempt(c.env, ctx.tenantId, deliveryId, now, now).catch((err) => console.warn("webhooks: redelivery send failed; the sweep will send it", String(err))));
  return c.json(view, 202);
});
