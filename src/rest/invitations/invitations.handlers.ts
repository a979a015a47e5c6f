/**
 * Handlers for /v1/invitations, one per route contract in ./invitations.routes.ts and typed by it
 * (RouteHandler<typeof route, AppEnv>): they translate shapes; the rules live in the core.
 */
import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { CoreContext } from "../../core/context";
import { coreContextOf } from "../../core/from-request";
import type { AppEnv } from "../../env";
import { decodeCursor, encodeCursor } from "../../http/cursor";
import { pagination } from "../../http/paging";
import { issuesToFieldErrors, validPart } from "../../http/validation";
import { inviteUsers } from "../../invitations/bulk";
import { acceptInvitation, getInvitation, invitationView, listInvitations, resendInvitation, revokeInvitation } from "../../invitations/lifecycle";
import type * as routes from "./invitations.routes";
import { InviteEntrySchema } from "./invitations.routes";


function coreContext(c: Context<AppEnv>): CoreContext {
  return coreContextOf(c);
}

export const invite: RouteHandler<typeof routes.invite, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const entries = body.users.map((raw) => {
    const parsed = InviteEntrySchema.safeParse(raw);
    // A failed entry keeps its valid rest, so the core adds its findings (required attributes, ...).
    return parsed.success ? parsed.data : { invalid: issuesToFieldErrors(parsed.error.issues), valid: validPart(InviteEntrySchema, raw, parsed.error.issues) };
  });
  const result = await inviteUsers(coreContext(c), entries, { sendEmail: body.sendEmail ?? false, expiresInDays: body.expiresInDays });
  return c.json(result, 200);
};

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const q = c.req.valid("query");
  const limit = q.limit ?? 100;
  const ordering = `invitations:${q.status ?? "all"}`;
  const after = q.cursor ? String(decodeCursor(q.cursor, ordering, 1)[0]) : undefined;
  const { rows, hasMore } = await listInvitations(coreContext(c), { status: q.status, after, limit });
  const last = rows[rows.length - 1];
  return c.json({ data: rows.map((r) => invitationView(r)), pagination: pagination(c, { limit, hasMore, nextCursor: hasMore && last ? encodeCursor({ o: ordering, k: [last.id] }) : null }) }, 200);
};

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => c.json(invitationView(await getInvitation(coreContext(c), c.req.valid("param").id)), 200);

export const resend: RouteHandler<typeof routes.resend, AppEnv> = async (c) => c.json(invitationView(await resendInvitation(coreContext(c), c.req.valid("param").id)), 200);

export const revoke: RouteHandler<typeof routes.revoke, AppEnv> = async (c) => c.json(invitationView(await revokeInvitation(coreContext(c), c.req.valid("param").id)), 200);

export const accept: RouteHandler<typeof routes.accept, AppEnv> = async (c) => c.json(invitationView(await acceptInvitation(coreContext(c), c.req.valid("param").id)), 200);
