/** `POST /v1/users/{id}/password/verify`: the platform's sign-in checks a password (rules in users/password-verify.ts). */
import { createRoute, z } from "@hono/zod-openapi";
import { requireScope } from "../../auth/middleware";
import { coreContextOf } from "../../core/from-request";
import { verifyUserPassword } from "../../users/password-verify";
import { PASSWORD_MAX_LENGTH } from "../../users/password";
import { bodyErrorResponses, createRouter, errorResponses, jsonBodyOf, jsonContent, problemResponse } from "../openapi";

const VerifyBody = z
  .strictObject({
    // Bounded so that a huge body cannot buy a long hash; the policy's length check is not repeated
    // here: an old password that no longer fits the policy must still verify.
    password: z.string({ error: "is required: the password to check" }).max(PASSWORD_MAX_LENGTH).openapi({ format: "password", writeOnly: true }),
  })
  .openapi("PasswordVerify");

const VerifyResult = z
  .object({
    valid: z.boolean(),
    passwordResetRequired: z.boolean().optional().openapi({ description: "Only when valid: the user must choose a new password now." }),
  })
  .openapi("PasswordVerifyResult");

export const userPasswordRouter = createRouter();

userPasswordRouter.use("/v1/users/:id/password/verify", requireScope("auth"));

userPasswordRouter.openapi(
  createRoute({
    method: "post",
    path: "/v1/users/{id}/password/verify",
    tags: ["Users"],
    security: [{ bearerAuth: [] }],
    summary: "Check a user's password (sign-in)",
    description:
      "Needs a token with the `auth` scope. Answers 200 `{\"valid\": true}` or `{\"valid\": false}` (also for a user without a password or a deactivated one). " +
      "After 5 failures within 15 minutes, checks are refused with 423 and `lockedUntil` for 15 minutes. Every check is audited as a `user.password_verified` event, without the password.",
    request: { params: z.object({ id: z.string().max(64) }), body: jsonBodyOf(VerifyBody) },
    responses: {
      200: jsonContent(VerifyResult, "Whether the password is the user's."),
      ...errorResponses,
      410: problemResponse("The user was erased."),
      423: problemResponse("Locked after too many failures; see `lockedUntil` and Retry-After."),
      ...bodyErrorResponses,
    },
  }),
  async (c) => c.json(await verifyUserPassword(coreContextOf(c), c.req.valid("param").id, c.req.valid("json").password), 200),
);
