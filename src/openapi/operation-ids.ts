/**
 * operationIds, derived in one place from method + path so that route files need not carry them
 * and a new route gets a stable, predictable name without anyone remembering to add one:
 *
 *   GET    /v1/users                 listUsers        GET    /v1/users/{id}    getUser
 *   POST   /v1/users                 createUser       PATCH  /v1/users/{id}    updateUser
 *   PUT    /v1/users/{id}            replaceUser      DELETE /v1/users/{id}    deleteUser
 *   GET    /v1/groups/{id}/members   listGroupMembers (parents named in the singular)
 *
 * Paths that are actions rather than resources (`/invitations/{id}/resend`) are named in
 * ACTIONS. A route may still set its own `operationId`; the derivation never overrides it.
 */
import { operationsOf, type OpenApiDoc } from "./types";

/** Verb + noun for paths whose last segment is an action, or whose derived name reads badly. */
const ACTIONS: Record<string, string> = {
  "POST /v1/users/search": "searchUsers",
  "POST /v1/users/{id}/password/verify": "verifyUserPassword",
  "POST /v1/users/{id}/activity": "recordUserActivity",
  "POST /v1/users/{id}/devices/{deviceId}/seen": "markUserDeviceSeen",
  "POST /v1/invitations": "inviteUsers",
  "POST /v1/invitations/{id}/resend": "resendInvitation",
  "POST /v1/invitations/{id}/revoke": "revokeInvitation",
  "POST /v1/invitations/{id}/accept": "acceptInvitation",
  "POST /v1/events/{id}/replay": "replayEvent",
  "POST /v1/webhooks/{id}/rotate-secret": "rotateWebhookSecret",
  "POST /v1/webhooks/{id}/test": "testWebhook",
  "POST /v1/webhooks/{id}/deliveries/{deliveryId}/redeliver": "redeliverWebhookDelivery",
  "GET /v1/audit-log": "listAuditLogEntries",
  "GET /v1/me": "getCurrentToken",
  "GET /platform/blocks": "listIpBlocks",
  "DELETE /platform/blocks/{ip}": "deleteIpBlock",
  "POST /platform/tenants/{slug}/move": "moveTenant",
  "DELETE /platform/tenants/{slug}/console-sessions": "endTenantConsoleSessions",
};

/** Collections whose members are added and removed (POST/DELETE on `/{id}/members`). */
const MEMBER_VERBS: Record<string, string> = { POST: "add", DELETE: "remove" };

const pascal = (segment: string) => segment.split("-").map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");

function singular(noun: string): string {
  if (noun.endsWith("ies")) return `${noun.slice(0, -3)}y`;
  return noun.endsWith("s") ? noun.slice(0, -1) : noun;
}

const isParam = (segment: string) => segment.startsWith("{");

/** The operationId of `method path` (method in any case, path in OpenAPI form). */
export function operationIdOf(method: string, path: string): string {
  const verb = method.toUpperCase();
  const named = ACTIONS[`${verb} ${path}`];
  if (named) return named;
  // The mount point (/v1, /platform, /scim/v2) is not part of the name.
  const segments = path.split("/").filter(Boolean).slice(path.startsWith("/scim/v2") ? 2 : 1);
  const last = segments.length - 1;
  const onItem = last >= 0 && isParam(segments[last]!);
  const nouns = segments.filter((s) => !isParam(s));
  if (nouns.length === 0) throw new Error(`operation-ids: cannot name ${verb} ${path}; add it to ACTIONS`);
  // Every noun but the last names a parent, in the singular: /users/{id}/devices -> UserDevices.
  const parents = nouns.slice(0, -1).map((n) => pascal(singular(n))).join("");
  const noun = nouns[nouns.length - 1]!;
  const one = parents + pascal(singular(noun));
  const many = parents + pascal(noun);
  if (onItem) {
    const itemVerb = { GET: "get", PATCH: "update", PUT: "replace", DELETE: "delete" }[verb];
    if (itemVerb) return itemVerb + one;
  } else if (noun === "members" && MEMBER_VERBS[verb]) {
    return MEMBER_VERBS[verb] + many;
  } else {
    const collectionVerb = { GET: "list", POST: "create", DELETE: "delete" }[verb];
    if (collectionVerb) return collectionVerb + (verb === "POST" ? one : many);
  }
  throw new Error(`operation-ids: cannot name ${verb} ${path}; add it to ACTIONS`);
}

/** Sets the derived operationId on every operation that has none; a duplicate is a bug, so it throws. */
export function applyOperationIds(doc: OpenApiDoc, name: (method: string, path: string) => string = operationIdOf): void {
  const seen = new Map<string, string>();
  for (const { path, method, operation } of operationsOf(doc)) {
    operation.operationId ??= name(method, path);
    const where = `${method.toUpperCase()} ${path}`;
    const clash = seen.get(operation.operationId);
    if (clash) throw new Error(`operation-ids: ${where} and ${clash} are both named ${operation.operationId}`);
    seen.set(operation.operationId, where);
  }
}
