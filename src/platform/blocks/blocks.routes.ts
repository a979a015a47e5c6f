/**
 * Route contracts for /platform/blocks: paths, methods, request and response schemas, summaries.
 * They make the OpenAPI document; the handlers that answer them are in ./blocks.handlers.ts.
 */
import { pageOf } from "../../http/paging";
import { intQuery } from "../../http/query";
import { createRoute, z } from "@hono/zod-openapi";
import { UNKNOWN_IP } from "../../limits/middleware";
import { jsonContent, problemResponse } from "../../rest/openapi";

const BlockSchema = z
  .object({
    ip: z.string().openapi({ description: `The client IP, or "${UNKNOWN_IP}" for requests without CF-Connecting-IP.` }),
    blockedAt: z.string(),
    blockedUntil: z.string(),
    retryAfterSeconds: z.number().int(),
    rejections: z.number().int().openapi({ description: "Rejected requests in the detection window when the block started." }),
  })
  .openapi("IpBlock");

const errors = {
  400: problemResponse("The request is not valid."),
  401: problemResponse("Missing or wrong platform admin token."),
  403: problemResponse("The platform API is disabled (no PLATFORM_ADMIN_TOKEN configured)."),
  429: problemResponse("Rate limit exceeded."),
} as const;

const tags = ["Platform"];
const security = [{ platformAdmin: [] }];

export const list = createRoute({
  method: "get",
  path: "/platform/blocks",
  tags,
  security,
  summary: "List blocked client IPs",
  description: "IPs that kept sending requests after being rate limited and are refused until `blockedUntil`.",
  request: { query: z.object({ limit: intQuery(1, 1000).optional(), cursor: z.string().max(512).optional() }) },
  responses: {
    200: jsonContent(pageOf(BlockSchema), "Active blocks by IP."),
    ...errors,
  },
});

export const lift = createRoute({
  method: "delete",
  path: "/platform/blocks/{ip}",
  tags,
  security,
  summary: "Lift a block",
  description: "The IP is served again at once by this isolate and within a second everywhere.",
  request: { params: z.object({ ip: z.string().max(64) }) },
  responses: { 204: { description: "Lifted." }, 404: problemResponse("The IP is not blocked."), ...errors },
});
