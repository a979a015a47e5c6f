/** `POST /v1/users/{id}/activity`: the platform reports that a user was active (rules in users/activity.ts). */
import { createRoute, z } from "@hono/zod-openapi";
import { demandScope, insufficientScope } from "../../auth/middleware";
import { coreContextOf } from "../../core/from-request";
import { recordActivity } from "../../users/activity";
import { createRouter, errorResponses, jsonContent, problemResponse } from "../openapi";

export const userActivityRouter = createRouter();

// The platform's sign-in (`auth`) and provisioning clients (`users:write`) both report activity.
userActivityRouter.use("/v1/users/:id/activity", async (c, next) => {
  demandScope(c, ["auth", "users:write"], insufficientScope("auth", "Reporting activity needs a token with the 'auth' or 'users:write' scope."));
  await next();
});

userActivityRouter.openapi(
  createRoute({
    method: "post",
    path: "/v1/users/{id}/activity",
    tags: ["Users"],
    security: [{ bearerAuth: [] }],
    summary: "Record a user's activity",
    description:
      "Sets `lastActivityAt` to now. Calls are coalesced: the user is written at most once a minute (`recorded: false` otherwise). " +
      "A write that lands increments the user's `version` (so its ETag changes with `lastActivityAt`), without an event and without changing `updatedAt`; " +
      "a coalesced call changes nothing. Find inactive users with `filter=lastActivityAt lt \"<date>\"`.",
    request: { params: z.object({ id: z.string().max(64) }) },
    responses: {
      200: jsonContent(z.object({ lastActivityAt: z.string(), version: z.number().int().openapi({ description: "The user's version after this call; its ETag is W/\"<version>\"." }), recorded: z.boolean() }).openapi("ActivityResult"), "The user's last activity."),
      ...errorResponses,
      410: problemResponse("The user was erased."),
    },
  }),
  async (c) => c.json(await recordActivity(coreContextOf(c), c.req.valid("param").id), 200),
);
