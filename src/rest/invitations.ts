/** `/v1/invitations`: bulk invitations and their lifecycle. The rules live in src/invitations/. */
import { coreContextOf } from "../core/from-request";
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { requireScope } from "../auth/middleware";
import type { AppEnv } from "../env";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { issuesToFieldErrors } from "../http/validation";
import {
  acceptInvitation,
  getInvitation,
  invitationView,
  inviteUsers,
  listInvitations,
  MAX_INVITATIONS_PER_REQUEST,
  resendInvitation,
  revokeInvitation,
} from "../invitations/service";
import type { CoreContext } from "../core/context";
import { bodyErrorResponses, createRouter, errorResponses, jsonBodyOf, jsonContent, problemResponse } from "./openapi";
import { UserCreateSchema } from "./users/users.schemas";

const InviteEntrySchema = UserCreateSchema.extend({
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

function coreContext(c: Context<AppEnv>): CoreContext {
  return coreContextOf(c);
}

const tags = ["Invitations"];
const security = [{ bearerAuth: [] }];
const IdParam = z.object({ id: z.string().max(64) });

export const invitationsRouter = createRouter();
invitationsRouter.use("/v1/invitations/*", async (c, next) => requireScope(c.req.method === "GET" ? "users:read" : "users:write")(c, next));

invitationsRouter.openapi(
  createRoute({
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
    request: { body: jsonBodyOf(InviteBodySchema) },
    responses: { 200: jsonContent(BulkResponseSchema, "Per-entry results, in request order."), ...errorResponses, ...bodyErrorResponses },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const entries = body.users.map((raw) => {
      const parsed = InviteEntrySchema.safeParse(raw);
      return parsed.success ? parsed.data : { invalid: issuesToFieldErrors(parsed.error.issues) };
    });
    const result = await inviteUsers(coreContext(c), entries, { sendEmail: body.sendEmail ?? false, expiresInDays: body.expiresInDays });
    return c.json(result, 200);
  },
);

invitationsRouter.openapi(
  createRoute({
    method: "get",
    path: "/v1/invitations",
    tags,
    security,
    summary: "List invitations",
    request: {
      query: z.object({
        status: z.enum(["pending", "accepted", "revoked", "expired"]).optional(),
        limit: z.coerce.number().int().min(1).max(1000).optional(),
        cursor: z.string().max(512).optional(),
      }),
    },
    responses: {
      200: jsonContent(z.object({ data: z.array(InvitationSchema), pagination: z.object({ limit: z.number(), nextCursor: z.string().nullable() }) }), "Oldest first."),
      ...errorResponses,
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const limit = q.limit ?? 100;
    const ordering = `invitations:${q.status ?? "all"}`;
    const after = q.cursor ? String(decodeCursor(q.cursor, ordering, 1)[0]) : undefined;
    const { rows, hasMore } = await listInvitations(coreContext(c), { status: q.status, after, limit });
    const last = rows[rows.length - 1];
    return c.json({ data: rows.map((r) => invitationView(r)), pagination: { limit, nextCursor: hasMore && last ? encodeCursor({ o: ordering, k: [last.id] }) : null } }, 200);
  },
);

invitationsRouter.openapi(
  createRoute({
    method: "get",
    path: "/v1/invitations/{id}",
    tags,
    security,
    summary: "Get an invitation",
    request: { params: IdParam },
    responses: { 200: jsonContent(InvitationSchema, "The invitation."), ...errorResponses },
  }),
  async (c) => c.json(invitationView(await getInvitation(coreContext(c), c.req.valid("param").id)), 200),
);

const lifecycle = [
  ["resend", "Resend an invitation", "Pending or expired invitations only: a new expiry and an invitation.resent event for the mailer."],
  ["revoke", "Revoke an invitation", "Pending or expired invitations only; the invited user, who never joined, is deactivated."],
  ["accept", "Mark an invitation accepted", "For the platform's sign-up flow: the user's status becomes `active`. Expired invitations must be resent first."],
] as const;

for (const [action, summary, description] of lifecycle) {
  invitationsRouter.openapi(
    createRoute({
      method: "post",
      path: `/v1/invitations/{id}/${action}`,
      tags,
      security,
      summary,
      description,
      request: { params: IdParam },
      responses: { 200: jsonContent(InvitationSchema, "The invitation after the change."), ...errorResponses, 409: problemResponse("Not allowed in the invitation's current state.") },
    }),
    async (c) => {
      const ctx = coreContext(c);
      const id = c.req.valid("param").id;
      const row = action === "resend" ? await resendInvitation(ctx, id) : action === "revoke" ? await revokeInvitation(ctx, id) : await acceptInvitation(ctx, id);
      return c.json(invitationView(row), 200);
    },
  );
}
