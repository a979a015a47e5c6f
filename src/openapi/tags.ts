/**
 * One tag per resource, each described once and listed in the document's `tags` (in this order,
 * which is the order reference UIs show). Route files tag their operations; the few whose tag is
 * a family rather than a resource (`Platform`) or spelled as a path (`access-groups`) are renamed
 * here so every file need not change.
 */
import { operationsOf, type OpenApiDoc } from "./types";

export const TAGS: { name: string; description: string }[] = [
  { name: "Users", description: "The people of the tenant: create, read, list and search, change, replace, deactivate, erase; password checks and activity." },
  { name: "User devices", description: "The devices a user signs in from (at most 50 per user)." },
  { name: "Invitations", description: "Bulk invitations of up to 1,000 users and the lifecycle of each invitation." },
  { name: "Groups", description: "Groups of users (also SCIM Groups), with their members and audience rules." },
  { name: "Campaigns", description: "Compliance campaigns users are enrolled in, with their members and audience rules." },
  { name: "Access groups", description: "Access groups that grant users access, with their members and audience rules." },
  { name: "Organizations", description: "Organizations users belong to, with their members and audience rules." },
  { name: "Folders", description: "Folders users are filed in, with their members and audience rules." },
  { name: "Attributes", description: "The tenant's attribute definitions: built-in and custom attributes, which are required." },
  { name: "Roles", description: "Roles a user can hold, with their weight and permissions." },
  { name: "Identity providers", description: "Identity providers users sign in with." },
  { name: "API tokens", description: "The tenant's API tokens and their scopes; the secret is shown once." },
  { name: "Events", description: "The tenant's ordered change feed, for delta sync, and each event's delivery state." },
  { name: "Webhooks", description: "Signed webhook endpoints (Standard Webhooks), their deliveries and retries." },
  { name: "Audit", description: "The audit trail: who changed what, from which token or console session." },
  { name: "Me", description: "The calling token and its tenant." },
  { name: "Tenants", description: "Platform API (apex host, platform admin token): tenants, their custom domains and rate limits." },
  { name: "Console access", description: "Platform API: sign-in links to a tenant's admin console and ending its sessions." },
  { name: "IP blocks", description: "Platform API: client IPs blocked automatically after repeatedly exceeding their rate limit." },
  { name: "Shards", description: "Platform API: the shard databases and moving a tenant between them." },
];

/** Route tags that name a family or a path rather than the resource. */
const RENAMED: Record<string, string> = {
  groups: "Groups",
  campaigns: "Campaigns",
  "access-groups": "Access groups",
  organizations: "Organizations",
  folders: "Folders",
};

/** The platform API is one family of several resources: its tag comes from the path. */
const PLATFORM: [RegExp, string][] = [
  [/^\/platform\/tenants\/\{slug\}\/(console-links|console-sessions)$/, "Console access"],
  [/^\/platform\/(shards|tenants\/\{slug\}\/move)$/, "Shards"],
  [/^\/platform\/blocks/, "IP blocks"],
  [/^\/platform\/tenants/, "Tenants"],
];

export function applyTags(doc: OpenApiDoc): void {
  const used = new Set<string>();
  for (const { path, operation } of operationsOf(doc)) {
    const platform = path.startsWith("/platform/") ? PLATFORM.find(([re]) => re.test(path))?.[1] : undefined;
    const tags = platform ? [platform] : ((operation.tags as string[] | undefined) ?? []).map((t) => RENAMED[t] ?? t);
    operation.tags = [...new Set(tags)];
    for (const t of operation.tags) used.add(t);
  }
  // Only the tags in use, described; a tag missing from TAGS is listed without a description,
  // which the linter and test/openapi.test.ts refuse.
  doc.tags = [...TAGS.filter((t) => used.has(t.name)), ...[...used].filter((t) => !TAGS.some((k) => k.name === t)).map((name) => ({ name }) as { name: string; description: string })];
}
