/**
 * Every copy of a person's data outside the `users` row, and the statements that clear them in
 * erasure's write batch (users/erase.ts). Adding a table that copies personal data means adding
 * it here; test/erasure.test.ts greps every text column of every table after an erasure.
 *
 * - events whose subject is the user (user.*, membership.*, invitation.*): the payload becomes `{}`
 *   and the delivery error is dropped;
 * - events about someone or something else whose payload names the user (another user's
 *   manager change, a collection event): each of the person's values, as the JSON string it is
 *   in the payload, becomes `null`; the rest of the payload (someone else's data) stays;
 * - stored Idempotency-Key responses that describe the user (their creation, `Location:
 *   /v1/users/{id}`, and their devices, `/v1/users/{id}/devices/...`): status 410 with no body and
 *   no headers (other stored responses, bulk invitations and membership changes, hold only ids), which the REST adapter replays as `user_erased` (rest/idempotency.ts), so a retry of
 *   the original request neither returns the data nor creates the person again;
 * - invitations: the email is emptied and a pending one is revoked;
 * - the provisioning status: its error list (ids and reasons) is dropped.
 *
 * Membership rows hold only ids and fixed reasons; the consumer ends current ones on user.erased.
 * The two payload scans read the tenant's events (no index on payload text): erasure is rare and
 * this is the price of "no copy survives".
 */
import { and, eq, ne, or, sql, type SQL } from "drizzle-orm";
import { events, idempotencyKeys, invitations, userProvisioning } from "../db/schema";
import type { Db } from "../env";
import { parseAttributes, SETTABLE_FIELDS, type UserRow } from "./model";

/** Status of a stored response whose user was erased; the adapter replays it as 410 user_erased. */
export const ERASED_RESPONSE_STATUS = 410;

// D1 binds at most 100 parameters per statement: the values, the ids and the tenant must fit.
const MAX_SCRUBBED_VALUES = 80;

/** The person's values as they appear in JSON payloads (distinct, longest first so none is cut). */
function personalJsonStrings(row: UserRow): string[] {
  const values = new Set<string>();
  for (const field of SETTABLE_FIELDS) {
    const value = row[field];
    // Ids of roles, providers and the manager are the tenant's, not the person's.
    if (typeof value === "string" && value !== "" && !["managerId", "roleId", "identityProviderId"].includes(field)) values.add(value);
  }
  if (row.email) values.add(row.email.toLowerCase());
  for (const value of Object.values(parseAttributes(row.attributes))) {
    if (typeof value === "string" && value !== "") values.add(value);
  }
  return [...values]
    .map((v) => JSON.stringify(v))
    .sort((a, b) => b.length - a.length)
    .slice(0, MAX_SCRUBBED_VALUES);
}

export function erasePersonalCopies(db: Db, tenantId: string, row: UserRow, now: number) {
  const id = row.id;
  let scrubbed: SQL = sql`${events.data}`;
  for (const value of personalJsonStrings(row)) scrubbed = sql`replace(${scrubbed}, ${value}, 'null')`;
  return [
    db
      .update(events)
      .set({ data: "{}", error: null })
      .where(and(eq(events.tenantId, tenantId), eq(events.subjectId, id))),
    db
      .update(events)
      .set({ data: scrubbed })
      .where(and(eq(events.tenantId, tenantId), ne(events.subjectId, id), sql`instr(${events.data}, ${id}) > 0`)),
    db
      .update(idempotencyKeys)
      .set({ status: ERASED_RESPONSE_STATUS, body: "", headers: null })
      .where(
        and(
          eq(idempotencyKeys.tenantId, tenantId),
          or(eq(idempotencyKeys.location, `/v1/users/${id}`), sql`instr(${idempotencyKeys.location}, ${`/v1/users/${id}/`}) = 1`),
        ),
      ),
    db
      .update(invitations)
      .set({
        email: "",
        status: sql`CASE WHEN ${invitations.status} = 'pending' THEN 'revoked' ELSE ${invitations.status} END`,
        revokedAt: sql`CASE WHEN ${invitations.status} = 'pending' THEN ${now} ELSE ${invitations.revokedAt} END`,
      })
      .where(and(eq(invitations.tenantId, tenantId), eq(invitations.userId, id))),
    db
      .update(userProvisioning)
      .set({ errors: null })
      .where(and(eq(userProvisioning.tenantId, tenantId), eq(userProvisioning.userId, id))),
  ];
}
