/**
 * The five kinds of collection. One mechanism serves them all; this table is the only place that
 * knows their names in URLs, request fields and responses.
 */
export const COLLECTION_KINDS = ["group", "campaign", "access_group", "organization", "folder"] as const;
export type CollectionKind = (typeof COLLECTION_KINDS)[number];

export interface KindInfo {
  kind: CollectionKind;
  /** URL segment: /v1/<segment>. */
  segment: string;
  /** Field on POST/PATCH /v1/users that lists ids of this kind, and key of GET's `memberships`. */
  userField: "groups" | "campaigns" | "accessGroups" | "organizationIds" | "folders";
  responseKey: "groups" | "campaigns" | "accessGroups" | "organizations" | "folders";
  /** Human label for messages. */
  label: string;
  /** Deactivation ends these memberships; inactive users cannot be added to them. */
  activeOnly: boolean;
}

export const KINDS: readonly KindInfo[] = [
  { kind: "group", segment: "groups", userField: "groups", responseKey: "groups", label: "group", activeOnly: false },
  { kind: "campaign", segment: "campaigns", userField: "campaigns", responseKey: "campaigns", label: "campaign", activeOnly: true },
  { kind: "access_group", segment: "access-groups", userField: "accessGroups", responseKey: "accessGroups", label: "access group", activeOnly: true },
  { kind: "organization", segment: "organizations", userField: "organizationIds", responseKey: "organizations", label: "organization", activeOnly: false },
  // The folders a user may access (the seed's `Folders`): kept while inactive, like groups.
  { kind: "folder", segment: "folders", userField: "folders", responseKey: "folders", label: "folder", activeOnly: false },
];

export const KIND_INFO: Record<CollectionKind, KindInfo> = Object.fromEntries(KINDS.map((k) => [k.kind, k])) as Record<CollectionKind, KindInfo>;

/** Requested memberships carried by a user event: for each listed kind, the full set of ids. */
export type MembershipRequest = Partial<Record<CollectionKind, string[]>>;

/** Most ids one request may list per kind (keeps each consumer batch well inside D1 limits). */
export const MAX_IDS_PER_KIND = 100;
