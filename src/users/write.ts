/**
 * Creating and changing users: the second (and last) round trip of a write, after the read
 * batch of reads.ts. Uniqueness of email, externalId and userName is the unique indexes' job, so
 * it costs nothing on the happy path; a violation is turned into a 409 that names the field and
 * the user who has it.
 */
import { and, eq } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { users } from "../db/schema";
import { isForeignKeyViolation, uniqueViolation } from "../db/errors";
import type { CoreContext } from "../core/context";
import { ApiError, type FieldError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import { insertEvent } from "../events/outbox";
import type { MembershipRequest } from "../memberships/kinds";
import { markPending } from "../memberships/provisioning";
import { hashPassword } from "./password";
import { toUser, type User, type UserFields, type UserRow } from "./model";
import { liveUsersQuery, readForWrite, type WriteReads } from "./reads";
import { buildNewUser, requestedMemberships, throwIfInvalid, userNameLowerOf, valuesOf, type Values } from "./validate";

/** Tells the adapter which events committed, so it can send them to the queue at once. */
export function committed(ctx: CoreContext, eventId: string): void {
  ctx.onCommit?.([{ id: eventId, tenantId: ctx.tenantId }]);
}

/**
 * The manager a change newly references must be a live user of the tenant. Usually the read
 * batch already answered (the adapter named the manager in its plan); otherwise ask now.
 */
export async function checkNewManager(ctx: CoreContext, reads: WriteReads, managerId: string | null, errors: FieldError[]): Promise<void> {
  if (managerId === null) return;
  const live = reads.askedManagers.has(managerId) ? reads.liveManagers.has(managerId) : (await liveUsersQuery(ctx, [managerId]).all()).length > 0;
  if (!live) errors.push({ path: "managerId", message: `must be the id of a user of this tenant; no user has id '${managerId}'` });
}

/**
 * Turns a unique-index violation into a 409 that names the field and the existing user. Which
 * index fired first says little (a duplicate email is also a duplicate default userName), so the
 * fields are checked in the order a person thinks of them: email, externalId, userName.
 */
export async function conflictFrom(ctx: CoreContext, err: unknown, values: Values): Promise<ApiError | null> {
  const columns = uniqueViolation(err);
  if (!columns || !columns.startsWith("users.")) return null;
  const byField = (condition: ReturnType<typeof eq>) => ctx.db.select({ id: users.id }).from(users).where(and(eq(users.tenantId, ctx.tenantId), condition));
  const [email, externalId, userName] = await ctx.db.batch([
    byField(eq(users.emailLower, (values.email ?? "").toLowerCase())),
    byField(eq(users.externalId, values.externalId ?? "")),
    byField(eq(users.userNameLower, userNameLowerOf(values) ?? "")),
  ]);
  const candidates: ["email" | "externalId" | "userName", { id: string }[]][] = [
    ["email", email],
    ["externalId", externalId],
    ["userName", userName],
  ];
  const hit = candidates.find(([, rows]) => rows.length > 0);
  const field = hit?.[0] ?? (columns.includes("external_id") ? "externalId" : columns.includes("email_lower") ? "email" : "userName");
  const existingId = hit?.[1][0]?.id ?? null;
  const what = field === "userName" ? "userName (a user's userName defaults to its email)" : field;
  return new ApiError("conflict", `A user with this ${what} already exists${existingId ? ` (id ${existingId})` : ""}.`, {
    errors: [{ path: field, message: "must be unique in this tenant" }],
    extra: { field, existingUserId: existingId },
  });
}

/** Runs a write batch; constraint violations become the 409 / 400 a client can act on. */
export async function writeUserBatch<T extends [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]>(ctx: CoreContext, values: Values, statements: T) {
  try {
    return await ctx.db.batch(statements);
  } catch (err) {
    const conflict = await conflictFrom(ctx, err, values);
    if (conflict) throw conflict;
    if (isForeignKeyViolation(err)) {
      throw new ApiError("invalid_manager", "managerId: the manager no longer exists in this tenant.", { errors: [{ path: "managerId", message: "must be the id of a user of this tenant" }] });
    }
    throw err;
  }
}

export interface CreateOptions {
  /** The read batch, when the adapter ran it (to add its own queries); otherwise createUser runs it. */
  reads?: WriteReads;
  /** Extra statements committed atomically with the user (e.g. an idempotency record). */
  alsoWrite?: (user: User) => BatchItem<"sqlite">[];
  /** Memberships to apply asynchronously; they travel in the event, so they commit with the user. */
  memberships?: MembershipRequest;
  /**
   * What the adapter's request schema found wrong (the input then holds only the valid rest): the
   * core adds its own findings and answers one 400 with all of them, never writing.
   */
  schemaErrors?: FieldError[];
}

/** Creates a user: one read batch, one write batch. */
export async function createUser(ctx: CoreContext, input: UserFields, options: CreateOptions = {}): Promise<User> {
  const reads = options.reads ?? (await readForWrite(ctx, { managerIds: [input.managerId] }));
  const now = ctx.clock.now();
  const { row, errors, password } = buildNewUser(ctx, input, reads.lookups, now);
  if (row.managerId !== row.id) await checkNewManager(ctx, reads, row.managerId, errors);
  throwIfInvalid(errors, options.schemaErrors);
  // Hashed only now that the request is valid: PBKDF2 is the most expensive step of a create.
  if (password !== null) row.passwordHash = await hashPassword(password);

  const user = toUser(row, reads.lookups.roles, now);
  const eventId = uuidv7(now);
  const requested = requestedMemberships(options.memberships);
  await writeUserBatch(ctx, valuesOf(row), [
    ctx.db.insert(users).values(row),
    insertEvent(ctx.db, { id: eventId, tenantId: ctx.tenantId, type: "user.created", subjectId: row.id, data: requested ? { user, memberships: requested } : { user }, createdAt: now }),
    // Every new user gets rule-based enrolment, so creation always has provisioning to track.
    markPending(ctx.db, { tenantId: ctx.tenantId, userId: row.id, eventId, now }),
    ...(options.alsoWrite?.(user) ?? []),
  ]);
  committed(ctx, eventId);
  return user;
}

/** The row as a fresh read inside a write batch sees it (after the batch's own statements). */
export function rowAfterWrite(ctx: CoreContext, id: string) {
  return ctx.db.select().from(users).where(and(eq(users.tenantId, ctx.tenantId), eq(users.id, id)));
}

export type { UserRow };
