/**
 * SCIM user operations on the users core, shared by the single-resource endpoints and /Bulk:
 * translate the SCIM shape, call the core, translate its errors back to SCIM names.
 */
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../http/errors";
import type { AttributeSet } from "../users/attributes";
import type { User } from "../users/model";
import type { CoreContext } from "../core/context";
import { coreContextOf } from "../core/from-request";
import { createUser, eraseUser, getUser, readUserWith, updateUser } from "../users/service";
import { attributeDefinitionsQuery, attributeSetFrom } from "../users/attributes";
import { applyPatch, parsePatchBody, type PatchTarget } from "./patch";
import { CORE_USER, ENTERPRISE_USER, TENANT_USER } from "./schema";
import { canonicalUser, fieldsFromScim, schemaSet, toScimUser, translateCoreError, type Json, type UserSchemaSet } from "./users";

/** The users core, told to send committed events to the queue right after the response (as /v1 does). */
export function coreContext(c: Context<AppEnv>): CoreContext {
  return coreContextOf(c);
}

async function run<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw translateCoreError(err);
  }
}

function requireUserName(user: Json): void {
  if (typeof user.userName !== "string" || user.userName.trim() === "") {
    throw new ApiError("validation_failed", "userName: is required (a non-empty string, unique in this tenant).", { errors: [{ path: "userName", message: "is required" }] });
  }
}

/** A user and the tenant's attribute set (to render its extension), in one D1 round trip. */
export async function scimReadUser(ctx: CoreContext, id: string): Promise<{ user: User; attrs: AttributeSet }> {
  const [user, definitions] = await run(() => readUserWith(ctx, id, [attributeDefinitionsQuery(ctx.db, ctx.tenantId)]));
  return { user, attrs: attributeSetFrom(definitions) };
}

export async function scimCreateUser(ctx: CoreContext, attrs: AttributeSet, body: unknown): Promise<User> {
  const user = canonicalUser(body, schemaSet(attrs));
  requireUserName(user);
  return run(() => createUser(ctx, fieldsFromScim(user, attrs)));
}

export async function scimReplaceUser(ctx: CoreContext, attrs: AttributeSet, id: string, body: unknown, ifMatch?: (u: User) => number | undefined): Promise<User> {
  return run(async () => {
    const current = await getUser(ctx, id);
    const expectedVersion = ifMatch?.(current);
    const user = canonicalUser(body, schemaSet(attrs));
    requireUserName(user);
    return updateUser(ctx, id, fieldsFromScim(user, attrs, current), { expectedVersion });
  });
}

/** Tries for a PATCH that keeps losing the optimistic-concurrency race to other writers. */
const MAX_PATCH_ATTEMPTS = 8;

/** What the PATCH engine needs to know about the User schemas: containers, multi-valuedness, known names. */
export function userPatchTarget(set: UserSchemaSet): PatchTarget {
  const containers: [string, UserSchemaSet["core"]][] = [["", set.core], [ENTERPRISE_USER, set.enterprise], [TENANT_USER, set.tenant]];
  const known = new Map<string, boolean>();
  for (const [urn, list] of containers) for (const a of list) known.set(`${urn.toLowerCase()}|${a.name.toLowerCase()}`, a.multiValued);
  // A common attribute (RFC 7643 §3.1), so not in the schema's list, but writable.
  known.set("|externalid", false);
  const coreNames = new Set(set.core.map((a) => a.name.toLowerCase()));
  const extensionNames = new Map<string, string>();
  for (const [urn, list] of containers.slice(1).reverse()) for (const a of list) extensionNames.set(a.name.toLowerCase(), urn);
  const key = (container: string | undefined, attr: string) => `${(container ?? "").toLowerCase()}|${attr.toLowerCase()}`;
  return {
    extensions: [ENTERPRISE_USER, TENANT_USER],
    coreUrn: CORE_USER,
    extensionOf: (attr) => (coreNames.has(attr.toLowerCase()) ? undefined : extensionNames.get(attr.toLowerCase())),
    isMultiValued: (container, attr) => known.get(key(container, attr)) === true,
    isKnown: (container, attr) => known.has(key(container, attr)),
  };
}

/** Loads, applies every operation in memory, writes once against the loaded version. */
export async function scimPatchUser(ctx: CoreContext, attrs: AttributeSet, baseUrl: string, id: string, body: unknown, ifMatch?: (u: User) => number | undefined): Promise<User> {
  const ops = parsePatchBody(body);
  const set = schemaSet(attrs);
  const target = userPatchTarget(set);
  for (let attempt = 1; ; attempt++) {
    const current = await run(() => getUser(ctx, id));
    const pinned = ifMatch?.(current);
    if (ops.length === 0) return current;
    const doc = applyPatch(toScimUser(current, baseUrl, attrs), ops, target);
    const user = canonicalUser(doc, set);
    requireUserName(user);
    try {
      return await run(() => updateUser(ctx, id, fieldsFromScim(user, attrs, current), { expectedVersion: current.version }));
    } catch (err) {
      // Someone else wrote in between: re-apply to the new version unless the client pinned one.
      if (err instanceof ApiError && err.code === "precondition_failed" && pinned === undefined && attempt < MAX_PATCH_ATTEMPTS) {
        // Jittered back-off so that racing writers stop colliding.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
        continue;
      }
      throw err;
    }
  }
}

/** SCIM DELETE erases the user (personal data gone, id kept as a tombstone); afterwards it is 404. */
export async function scimDeleteUser(ctx: CoreContext, id: string, ifMatch?: (u: User) => number | undefined): Promise<void> {
  await run(async () => {
    const expectedVersion = ifMatch?.(await getUser(ctx, id));
    await eraseUser(ctx, id, { expectedVersion });
  });
}

