/**
 * Route contracts for /v1/invitations: paths, methods, request and response schemas, summaries.
 * They make the OpenAPI document; the handlers that answer them are in ./invitations.handlers.ts.
 */
import { pageOf } from "../../http/paging";
import { intQuery } from "../../http/query";
import { createRoute, z } from "@hono/zod-openapi";
import { MAX_INVITATIONS_PER_REQUEST } from "../../invitations/model";
import { bodyErrorResponses, errorResponses, jsonBodyOf, jsonContent, problemResponse } from "../openapi";
import { UserCreateSchema } from "../users/users.schemas";
import { IdempotencyKeyHeader, idempotencyResponses, idempotent } from "../idempotency";

/** One entry of the bulk request, validated on its own so that each entry fails alone. */
export const InviteEntrySchema = UserCreateSchema.extend({
  organizationIds: z.array(z.string().max(64)).max(100).optional().openapi({ description: "Organizations to join (GET /v1/organizations)." }),
}).openapi("InvitationEntry");

const InviteBodySchema = z
  .strictObject({
    users: z
      .array(z.unknown())
      .min(1, "must list at least one user")
      .max(MAX_INVITATIONS_PER_REQUEST, `must hold at most ${MAX_INVITATIONS_PER_REQUEST} entries; split the list`)
      .openapi({ description: "Up to 1,000 entries shaped like InvitationEntry; each succeeds or fails on its own." }),
    sendEmail: z.boolean().optional().openapi({ description: "Passed to the mailer in invitation.created; this service sends no email. Default false." }),
    expiresInDays: z.number().int().min(1).max(90).optional().openapi({ description: "Default 14." }),
  })
  .openapi("InvitationRequest");

const ResultSchema = z
  .object({
    index: z.number().int(),
    status: z.enum(["created", "existing", "error"]),
    userId: z.string().optional(),
    invitationId: z.string().optional(),
    organizationIds: z.array(z.string()).optional().openapi({ description: "For existing users: organizations added." }),
    code: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("InvitationResult");

const BulkResponseSchema = z
  .object({
    counts: z.object({ created: z.number().int(), existing: z.number().int(), failed: z.number().int() }),
    results: z.array(ResultSchema),
  })
  .openapi("InvitationResponse");

export const InvitationSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    email: z.string(),
    status: z.enum(["pending", "accepted", "revoked", "expired"]),
    sendEmail: z.boolean(),
    organizationIds: z.array(z.string()),
    createdAt: z.string(),
    expiresAt: z.string(),
    sentCount: z.number().int(),
    lastSentAt: z.string(),
    acceptedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi("Invitation");

const tags = ["Invitations"];
const security = [{ bearerAuth: [] }];
const IdParam = z.object({ id: z.string().max(64) });

export const invite = createRoute({
  method: "post",
  path: "/v1/invitations",
  tags,
  security,
  summary: "Invite up to 1,000 users",
  description:
    "Each entry has the user fields of POST /v1/users (the tenant's required attributes apply), plus `roleId`, " +
    "`identityProviderId` and `organizationIds`. Each entry succeeds or fails on its own; the call answers **200** with " +
    "per-entry results: `created` (new user with status `invited`), `existing` (a user with that email exists: the " +
    "organizations are added), or `error` with the reasons. A failed entry writes nothing. Emails are not sent here: " +
    "an `invitation.created` event in GET /v1/events carries what a mailer needs.",
  request: { headers: IdempotencyKeyHeader, body: jsonBodyOf(InviteBodySchema) },
  middleware: [idempotent()],
  responses: { ...idempotencyResponses, 200: jsonContent(BulkResponseSchema, "Per-entry results, in request order."), ...errorResponses, ...bodyErrorResponses },
});

export const list = createRoute({
  method: "get",
  path: "/v1/invitations",
  tags,
  security,
  summary: "List invitations",
  request: {
    query: z.object({
      status: z.enum(["pending", "accepted", "revoked", "expired"]).optional(),
      limit: intQuery(1, 1000).optional(),
      cursor: z.string().max(512).optional(),
    }),
  },
  responses: {
    200: jsonContent(pageOf(InvitationSchema), "Oldest first."),
    ...errorResponses,
  },
});

export const get = createRoute({
  method: "get",
  path: "/v1/invitations/{id}",
  tags,
  security,
  summary: "Get an invitation",
  request: { params: IdParam },
  responses: { 200: jsonContent(InvitationSchema, "The invitation."), ...errorResponses },
});

/** The lifecycle transitions share one contract shape: POST /v1/invitations/{id}/<action>. */
function lifecycleRoute<A extends "resend" | "revoke" | "accept">(action: A, summary: string, description: string) {
  return createRoute({
    method: "post",
    path: `/v1/invitations/{id}/${action}` as `/v1/invitations/{id}/${A}`,
    tags,
    security,
    summary,
    description,
    request: { params: IdParam },
    responses: { 200: jsonContent(InvitationSchema, "The invitation after the change."), ...errorResponses, 409: problemResponse("Not allowed in the invitation's current state.") },
  });
}

export const resend = lifecycleRoute("resend", "Resend an invitation", "Pending or expired invitations only: a new expiry and an invitation.resent event for the mailer.");
export const revoke = lifecycleRoute("revoke", "Revoke an invitation", "Pending or expired invitations only; the invited user, who never joined, is deactivated.");
export const accept = lifecycleRoute(
  "accept",
  "Mark an invitation accepted",
  "For the platform's sign-up flow: the user's status becomes `active`. Expired invitations must be resent first.",
);
