/**
 * What bulk invitation and the invitation lifecycle share: the row type, the limits and default
 * expiry, and the mailer payload that invitation.created (bulk) and invitation.resent (lifecycle)
 * both carry. Kept apart so neither half imports the other.
 */
import type { invitations } from "../db/schema";
import type { InvitationMailerPayload } from "../events/catalogue";
import type { User } from "../users/model";
import type { UserLookups } from "../users/service";

export const MAX_INVITATIONS_PER_REQUEST = 1000;
export const DEFAULT_INVITATION_DAYS = 14;
export const DAY_MS = 24 * 60 * 60 * 1000;

export type InvitationRow = typeof invitations.$inferSelect;

/** What a mailer needs, carried by invitation.created / invitation.resent. */
export function mailerPayload(user: User, invitation: InvitationRow, lookups: UserLookups): InvitationMailerPayload {
  const idp = lookups.identityProviders.find((i) => i.id === user.identityProviderId);
  return {
    invitationId: invitation.id,
    userId: user.id,
    email: user.email,
    firstName: user.firstName,
    lastName: user.lastName,
    displayName: user.displayName,
    locale: user.locale,
    role: user.role,
    identityProvider: idp ? { id: idp.id, name: idp.name } : null,
    organizationIds: JSON.parse(invitation.organizationIds) as string[],
    // A doNotEmail user is never emailed, whatever the request asked (invitation.sendEmail is false).
    sendEmail: invitation.sendEmail && !user.doNotEmail,
    doNotEmail: user.doNotEmail,
    expiresAt: new Date(invitation.expiresAt).toISOString(),
  };
}
