/**
 * `PUT /v1/users/{id}`: full replace through the one update path (users/update.ts), as a function
 * of the current user so that a retry after a lost race recomputes it.
 *
 * What "full" means here:
 * - every built-in field not sent is cleared (null); the required ones must be sent (the request
 *   schema is UserCreate's, and the core refuses to clear what a tenant requires);
 * - `attributes` replaces the custom attributes: keys not sent are removed;
 * - `doNotEmail` not sent is false;
 * - the read-only members of the representation (users/fields.ts READ_ONLY_FIELDS: version,
 *   timestamps, provisioning, memberships, ...) may be sent back as a GET returned them and are
 *   ignored; `id` must then equal the path's;
 * - kept when not sent, because a client cannot send back what it cannot read: `password` (write-only),
 *   `resetPassword` (an instruction, not a field), `active` (as SCIM PUT does; Okta deactivates
 *   with an explicit `active: false`), and memberships (lists not sent are left alone, as in PATCH).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { coreContextOf } from "../../core/from-request";
import type { OutboxRef } from "../../events/dispatch";
import { ApiError } from "../../http/errors";
import { parseETagList } from "../../http/etag";
import { KINDS, type MembershipRequest } from "../../memberships/kinds";
import { provisioningAfterWrite, provisioningQuery, toProvisioning } from "../../memberships/provisioning";
import { SETTABLE_FIELDS, etagOf, type User, type UserFields } from "../../users/model";
import { readForWrite, updateUser } from "../../users/service";
import { bodyErrorResponses, createRouter, errorResponses, jsonBodyOf, jsonContent, problemResponse } from "../openapi";
import { UserReplaceSchema, UserSchema } from "../users/users.schemas";
import { userBodyHook } from "../user-body";

type ReplaceBody = z.output<typeof UserReplaceSchema>;

/** The merge-patch that turns `current` into exactly what the body describes. */
export function replacement(body: ReplaceBody, current: User): UserFields {
  const sent = body as Record<string, unknown>;
  const change: UserFields = {};
  for (const field of SETTABLE_FIELDS) change[field] = (sent[field] as string | null | undefined) ?? null;
  if (body.role !== undefined) change.role = body.role;
  const attributes: Record<string, unknown> = Object.fromEntries(Object.keys(current.attributes).map((k) => [k, null]));
  Object.assign(attributes, body.attributes ?? {});
  change.attributes = attributes;
  change.doNotEmail = body.doNotEmail ?? false;
  if (body.active !== undefined) change.active = body.active;
  if (body.password !== undefined) change.password = body.password;
  if (body.resetPassword !== undefined) change.resetPassword = body.resetPassword;
  return change;
}

function membershipsOf(body: ReplaceBody): MembershipRequest | undefined {
  const out: MembershipRequest = {};
  for (const k of KINDS) {
    const ids = (body as Record<string, unknown>)[k.userField];
    if (Array.isArray(ids)) out[k.kind] = ids as string[];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export const userReplaceRouter = createRouter();

userReplaceRouter.openapi(
  createRoute({
    method: "put",
    path: "/v1/users/{id}",
    tags: ["Users"],
    security: [{ bearerAuth: [] }],
    summary: "Replace a user",
    description:
      "Full replace: built-in fields not sent are cleared, custom attributes not sent are removed, `doNotEmail` not sent is false; " +
      "required fields must be sent. The password, `active` and memberships are kept unless sent. Read-only members of User (`version`, `createdAt`, `memberships`, ...) " +
      "are ignored, so a GET's body can be edited and sent back; `id`, when sent, must equal the path's (400 otherwise). `If-Match` makes it conditional (412 on mismatch).",
    request: { params: z.object({ id: z.string().max(64) }), headers: z.object({ "if-match": z.string().optional() }), body: jsonBodyOf(UserReplaceSchema) },
    responses: {
      200: jsonContent(UserSchema, "The replaced user."),
      ...errorResponses,
      409: problemResponse("email or externalId already belongs to another user."),
      410: problemResponse("The user was erased."),
      412: problemResponse("If-Match does not match the current version."),
      ...bodyErrorResponses,
    },
  }),
  async (c) => {
    const committed: OutboxRef[] = [];
    const ctx = coreContextOf(c, committed);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    if (body.id !== undefined && body.id !== id) {
      const message = `must equal the id in the path ('${id}'), or be left out; a PUT cannot change a user's id`;
      throw new ApiError("validation_failed", `id: ${message}.`, { errors: [{ path: "id", message }] });
    }
    const memberships = membershipsOf(body);
    const reads = await readForWrite(ctx, { userId: id, managerIds: [body.managerId], extra: [provisioningQuery(ctx, id)] });
    const user = await updateUser(ctx, id, (current) => replacement(body, current), { ifMatch: parseETagList(c.req.header("If-Match")), memberships, reads });
    const provisioning = provisioningAfterWrite(committed.map((e) => e.id), (reads.extra[0] as Parameters<typeof toProvisioning>[0][])[0], ctx.clock.now());
    c.header("ETag", etagOf(user.version));
    return c.json({ ...user, provisioning }, 200);
  },
  // A body that fails its schema still gets the core's checks: one 400 with every problem.
  userBodyHook(UserReplaceSchema, (c, valid, schemaErrors) => {
    const { id } = c.req.valid("param" as never) as { id: string };
    return updateUser(coreContextOf(c), id, (current) => replacement(valid as ReplaceBody, current), { schemaErrors, ifMatch: parseETagList(c.req.header("If-Match")) });
  }),
);
