/**
 * SCIM user operations on the users core, shared by the single-resource endpoints and /Bulk:
 * translate the SCIM shape, call the core, translate its errors back to SCIM names.
 */
import type { Context } from "hono";
import type { CoreContext } from "../core/context";
import { coreContextOf } from "../core/from-request";
import type { AppEnv } from "../env";
import { ApiError } from "../http/errors";
import type { ETagCondition } from "../http/etag";
import type { AttributeSet } from "../users/attributes";
import { attributeDefinitionsQuery, attributeSetFrom } from "../users/attributes";
import { toUser, type User } from "../users/model";
import { liveRow } from "../users/reads";
import { createUser, eraseUser, readForWrite, readUserWith, updateUser, type WriteReads } from "../users/service";
import { applyPatch, type PatchTarget } from "./patch";
import { parsePatchBody } from "./patch-parse";
import { CORE_USER, ENTERPRISE_USER, PROVISIONING_USER, TENANT_USER } from "./schema";
import { folderReads, folderRequest, foldersAfter, foldersOf, userFoldersQuery, type FolderRef, type FolderRow, type FolderState } from "./user-folders";
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

/** A user, its folders and the tenant's attribute set (to render its extensions), in one D1 round trip. */
export async function scimReadUser(ctx: CoreContext, id: string): Promise<{ user: User; attrs: AttributeSet; folders: FolderRef[] }> {
  const [user, definitions, folders] = await run(() => readUserWith(ctx, id, [attributeDefinitionsQuery(ctx.db, ctx.tenantId), userFoldersQuery(ctx, [id])]));
  return { user, attrs: attributeSetFrom(definitions), folders: folders.map((f: FolderRow) => ({ value: f.value, display: f.display, source: f.source })) };
}

/** The read batch of a SCIM user write, with what it knows about folders. */
export type ScimWriteReads = WriteReads & { folders: FolderState };

/** A written user and the folders its response shows. */
export interface ScimWritten {
  user: User;
  folders: FolderRef[];
}

function membershipsOf(requested: string[] | undefined) {
  return requested === undefined ? undefined : { folder: requested };
}

const MAX_HINT_DEPTH = 8;

/**
 * Manager ids a SCIM body may set (enterprise `manager`, as a value, a `{value}` object or a
 * PATCH operation on a manager path), found without the tenant's schemas so that the read batch
 * can check them. A hint only saves a round trip: a manager it misses is checked afterwards.
 */
export function managerHints(body: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > MAX_HINT_DEPTH || out.length >= 10 || !body || typeof body !== "object") return out;
  if (Array.isArray(body)) {
    for (const item of body) managerHints(item, out, depth + 1);
    return out;
  }
  const o = body as Json;
  const pick = (v: unknown) => {
    if (typeof v === "string") out.push(v);
    else if (v && typeof v === "object" && typeof (v as Json).value === "string") out.push((v as Json).value as string);
  };
  if (typeof o.path === "string" && /manager/i.test(o.path)) pick(o.value);
  for (const [key, value] of Object.entries(o)) {
    if (/manager$/i.test(key)) pick(value);
    if (value && typeof value === "object") managerHints(value, out, depth + 1);
  }
  return out;
}

/**
 * The read batch of a SCIM user write: the tenant's definitions (the schemas depend on them),
 * roles and identity providers, the user (for PUT and PATCH), the managers the body names, and the
 * user's folders and those the body names (user-folders.ts).
 */
export async function scimReads(ctx: CoreContext, id: string | undefined, body: unknown): Promise<ScimWriteReads> {
  const folders = folderReads(ctx, id, body);
  const reads = await run(() => readForWrite(ctx, { userId: id, managerIds: managerHints(body), extra: folders.queries }));
  return { ...reads, folders: folders.read(reads.extra) };
}

export async function scimCreateUser(ctx: CoreContext, reads: ScimWriteReads, body: unknown): Promise<ScimWritten> {
  const attrs = reads.lookups.attrs;
  const user = canonicalUser(body, schemaSet(attrs));
  requireUserName(user);
  const requested = await folderRequest(ctx, reads.folders, foldersOf(user));
  const created = await run(() => createUser(ctx, fieldsFromScim(user, attrs), { reads, memberships: membershipsOf(requested) }));
  return { user: created, folders: foldersAfter(reads.folders, requested) };
}

/**
 * PUT: the body replaces the user, computed against the row it is written over. Folders, like
 * `active` and the password, are kept when the body does not carry them (an IdP that does not
 * manage folders must not wipe those set over /v1); a list, even an empty one, replaces them.
 */
export async function scimReplaceUser(ctx: CoreContext, reads: ScimWriteReads, id: string, body: unknown, ifMatch?: ETagCondition): Promise<ScimWritten> {
  const attrs = reads.lookups.attrs;
  const set = schemaSet(attrs);
  return run(async () => {
    liveRow(reads.row, id);
    const user = canonicalUser(body, set);
    requireUserName(user);
    const requested = await folderRequest(ctx, reads.folders, foldersOf(user));
    const replaced = await updateUser(ctx, id, (current) => fieldsFromScim(user, attrs, current), { ifMatch, reads, memberships: membershipsOf(requested) });
    return { user: replaced, folders: foldersAfter(reads.folders, requested) };
  });
}

/** What the PATCH engine needs to know about the User schemas: containers, multi-valuedness, known names. */
export function userPatchTarget(set: UserSchemaSet): PatchTarget {
  const containers: [string, UserSchemaSet["core"]][] = [["", set.core], [ENTERPRISE_USER, set.enterprise], [TENANT_USER, set.tenant], [PROVISIONING_USER, set.provisioning]];
  const known = new Map<string, boolean>();
  // Read-only attributes (lastActivityAt) are left out: operations on them are ignored, as on PUT.
  for (const [urn, list] of containers) for (const a of list) if (a.mutability !== "readOnly") known.set(`${urn.toLowerCase()}|${a.name.toLowerCase()}`, a.multiValued);
  // A common attribute (RFC 7643 §3.1), so not in the schema's list, but writable.
  known.set("|externalid", false);
  const coreNames = new Set(set.core.map((a) => a.name.toLowerCase()));
  const extensionNames = new Map<string, string>();
  for (const [urn, list] of containers.slice(1).reverse()) for (const a of list) extensionNames.set(a.name.toLowerCase(), urn);
  const key = (container: string | undefined, attr: string) => `${(container ?? "").toLowerCase()}|${attr.toLowerCase()}`;
  return {
    extensions: [ENTERPRISE_USER, TENANT_USER, PROVISIONING_USER],
    coreUrn: CORE_USER,
    unremovable: {
      externalid: "every user of this service has an externalId; replace it with another value instead",
      active: "a user is always active or inactive; replace it with false to deactivate",
    },
    extensionOf: (attr) => (coreNames.has(attr.toLowerCase()) ? undefined : extensionNames.get(attr.toLowerCase())),
    isMultiValued: (container, attr) => known.get(key(container, attr)) === true,
    isKnown: (container, attr) => known.has(key(container, attr)),
  };
}

/**
 * PATCH: every operation is applied in memory to the user as it is, and the result written once;
 * if another writer wins the race the core re-runs this against the new row (update.ts). The
 * folders the operations leave are computed once, from the folders the read batch saw: membership
 * changes are set-based and not versioned with the user row.
 */
export async function scimPatchUser(ctx: CoreContext, reads: ScimWriteReads, baseUrl: string, id: string, body: unknown, ifMatch?: ETagCondition): Promise<ScimWritten> {
  const ops = parsePatchBody(body);
  const attrs = reads.lookups.attrs;
  const set = schemaSet(attrs);
  const target = userPatchTarget(set);
  const current = reads.folders.current;
  const patched = (user: User) => canonicalUser(applyPatch(toScimUser(user, baseUrl, attrs, current), ops, target), set);
  return run(async () => {
    const row = liveRow(reads.row, id);
    const wanted = ops.length === 0 ? undefined : (foldersOf(patched(toUser(row, reads.lookups.roles, ctx.clock.now()))) ?? []);
    const requested = await folderRequest(ctx, reads.folders, wanted);
    const user = await updateUser(
      ctx,
      id,
      (latest) => {
        if (ops.length === 0) return {};
        const next = patched(latest);
        requireUserName(next);
        return fieldsFromScim(next, attrs, latest);
      },
      { ifMatch, reads, memberships: membershipsOf(requested) },
    );
    return { user, folders: foldersAfter(reads.folders, requested) };
  });
}

/** SCIM DELETE erases the user (personal data gone, id kept as a tombstone); afterwards it is 404. */
export async function scimDeleteUser(ctx: CoreContext, id: string, ifMatch?: ETagCondition): Promise<void> {
  await run(() => eraseUser(ctx, id, { ifMatch }));
}
