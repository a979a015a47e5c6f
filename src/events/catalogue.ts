/**
 * The event catalogue: every event type the service writes to its outbox, what it means, whether
 * it goes through the queue, and (in EventPayloads) the shape of its `data`. It is the one list:
 * the outbox writers are generic over it, so each call site's payload is checked against its type,
 * and the feed (GET /v1/events?types=) validates and documents its filter from it. Payloads written
 * by SQL rather than TypeScript (membership.* in memberships/statements.ts) are described here too;
 * keep the two in step.
 */
import type { Collection } from "../memberships/collections";
import type { CollectionKind, MembershipRequest } from "../memberships/kinds";
import type { User } from "../users/model";

/** A change to a user row: the changed fields (REST names) and, when the core wrote it, the new version. */
interface UserChange {
  changes: Record<string, unknown>;
  version?: number;
  /** Memberships the same request asked for (applied by the queue consumer). */
  memberships?: MembershipRequest;
}

/** How membership events name their collection (json_object in memberships/statements.ts). */
interface CollectionRef {
  id: string;
  kind: CollectionKind;
  name: string;
}

/** What a mailer needs to send (or re-send) an invitation; this service sends no email itself. */
export interface InvitationMailerPayload {
  invitationId: string;
  userId: string;
  email: User["email"];
  firstName: User["firstName"];
  lastName: User["lastName"];
  displayName: User["displayName"];
  locale: User["locale"];
  role: User["role"];
  identityProvider: { id: string; name: string } | null;
  organizationIds: string[];
  sendEmail: boolean;
  /** The user must not be emailed (then sendEmail is false too). */
  doNotEmail: boolean;
  expiresAt: string;
}

/** The `data` of each event type. */
export interface EventPayloads {
  "user.created": { user: User; memberships?: MembershipRequest };
  "user.updated": UserChange;
  "user.deactivated": UserChange & { reason?: string };
  "user.reactivated": UserChange;
  "user.erased": Record<string, never>;
  "user.memberships_requested": { memberships: MembershipRequest; version: number } | { addMemberships: MembershipRequest };
  "membership.added": { userId: string; collection: CollectionRef; source: "manual" | "rule" };
  "membership.removed": { userId: string; collection: CollectionRef; reason: string };
  "collection.created": { collection: Collection; ruleVersion: number; ruleChanged: boolean };
  "collection.updated": { changes: Record<string, unknown>; ruleVersion: number; ruleChanged: boolean; kind: CollectionKind };
  "collection.deleted": { collection: Collection; note: string };
  "invitation.created": InvitationMailerPayload;
  "invitation.resent": InvitationMailerPayload;
  "invitation.accepted": { invitationId: string; userId: string };
  "invitation.revoked": { invitationId: string; userId: string };
  /** Written in SQL (users/password-verify.ts): the outcome, never the password. */
  "user.password_verified": { userId: string; outcome: "valid" | "invalid" | "invalid_and_locked" | "locked" | "no_password" | "inactive"; failures: number; lockedUntil: string | null };
  // Admin changes (the audit trail, src/audit/) and webhook notices: what changed, never a secret.
  "api_token.created": { apiToken: object };
  "api_token.disabled": { id: string; name: string };
  "attribute_definition.created": { key: string; type: string; required: boolean };
  "attribute_definition.updated": { key: string; changes: Record<string, unknown> };
  "attribute_definition.deleted": { key: string };
  "role.created": { role: { id: string; name: string; weight: number; permissions: string[] } };
  "role.updated": { changes: Record<string, unknown> };
  "role.deleted": { id: string; name: string; reassignedTo: string | null };
  "identity_provider.created": { identityProvider: { id: string; name: string; prefix: string; enabled: boolean } };
  "identity_provider.updated": { changes: Record<string, unknown> };
  "identity_provider.deleted": { id: string; name: string };
  "tenant.updated": { changes: Record<string, unknown> };
  "webhook_endpoint.created": { endpoint: object };
  "webhook_endpoint.updated": { changes: Record<string, unknown> };
  "webhook_endpoint.deleted": { id: string; url: string };
  "webhook_endpoint.secret_rotated": { id: string; previousSecretExpiresAt: string | null };
  "webhook.disabled": { endpointId: string; url: string; reason: "gone" | "failing"; detail: string };
  "webhook.test": { endpointId: string; message: string };
}

interface EventInfo {
  description: string;
  /** `queue`: written `pending` and delivered to the consumer; `feed`: written `processed`, feed only. */
  delivery: "queue" | "feed";
}

/** Every event type, in the order the feed documents them. */
export const EVENT_CATALOGUE = {
  "user.created": { description: "A user was created (REST, SCIM, bulk or invitation).", delivery: "queue" },
  "user.updated": { description: "User fields changed; `changes` lists them by REST name.", delivery: "queue" },
  "user.deactivated": { description: "The user was deactivated (active: false).", delivery: "queue" },
  "user.reactivated": { description: "The user was reactivated (active: true).", delivery: "queue" },
  "user.erased": { description: "The user's personal data was erased; only the id remains.", delivery: "queue" },
  "user.memberships_requested": { description: "A write that only asked for memberships: the user row did not change.", delivery: "queue" },
  "membership.added": { description: "A user joined a group, campaign, access group or organization.", delivery: "feed" },
  "membership.removed": { description: "A user's membership ended (kept as history).", delivery: "feed" },
  "collection.created": { description: "A collection was created (with its rule, if any).", delivery: "queue" },
  "collection.updated": { description: "A collection's name, externalId, description or rule changed.", delivery: "queue" },
  "collection.deleted": { description: "A collection was deleted; it stands for the end of all its memberships.", delivery: "feed" },
  "invitation.created": { description: "What a mailer needs to send an invitation.", delivery: "feed" },
  "invitation.resent": { description: "What a mailer needs to re-send an invitation (new expiry).", delivery: "feed" },
  "invitation.accepted": { description: "The invitee accepted; the user became active.", delivery: "feed" },
  "invitation.revoked": { description: "The invitation was revoked; the user was deactivated.", delivery: "feed" },
  "user.password_verified": { description: "A password check (POST /v1/users/{id}/password/verify) and its outcome, never the password.", delivery: "feed" },
  "api_token.created": { description: "An API token was created (never its secret).", delivery: "feed" },
  "api_token.disabled": { description: "An API token was disabled.", delivery: "feed" },
  "attribute_definition.created": { description: "A custom attribute was defined.", delivery: "feed" },
  "attribute_definition.updated": { description: "An attribute definition changed (label, required, enum values, description).", delivery: "feed" },
  "attribute_definition.deleted": { description: "A custom attribute was removed (users' values went with it).", delivery: "feed" },
  "role.created": { description: "A role was created.", delivery: "feed" },
  "role.updated": { description: "A role's name, weight or permissions changed.", delivery: "feed" },
  "role.deleted": { description: "A role was deleted (its users reassigned or cleared).", delivery: "feed" },
  "identity_provider.created": { description: "An identity provider was added.", delivery: "feed" },
  "identity_provider.updated": { description: "An identity provider was renamed, re-prefixed, enabled or disabled.", delivery: "feed" },
  "identity_provider.deleted": { description: "An identity provider was removed.", delivery: "feed" },
  "tenant.updated": { description: "Tenant settings changed on the platform API (name, suspension, rate limits).", delivery: "feed" },
  "webhook_endpoint.created": { description: "A webhook endpoint was registered (never its secret).", delivery: "feed" },
  "webhook_endpoint.updated": { description: "A webhook endpoint's URL, events, description or enabled state changed.", delivery: "feed" },
  "webhook_endpoint.deleted": { description: "A webhook endpoint was deleted.", delivery: "feed" },
  "webhook_endpoint.secret_rotated": { description: "A webhook signing secret was rotated; the old one signs until previousSecretExpiresAt.", delivery: "feed" },
  "webhook.disabled": { description: "Delivery disabled an endpoint: it answered 410, or failed for 5 days.", delivery: "feed" },
  "webhook.test": { description: "A test event, delivered only to the endpoint it was asked for.", delivery: "feed" },
} as const satisfies Record<keyof EventPayloads, EventInfo>;

export type EventType = keyof typeof EVENT_CATALOGUE;

export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE) as readonly EventType[];

/** One event of any of the given types, with its payload: a union discriminated by `type`. */
export type TypedEvent<T extends EventType = EventType> = { [K in T]: { type: K; data: EventPayloads[K] } }[T];
