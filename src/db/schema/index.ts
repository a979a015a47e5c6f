/**
 * The storage contract. Every tenant-owned table leads its keys with `tenant_id`, so every lookup
 * and every keyset page is an index range inside one tenant. Times are integer milliseconds since
 * the epoch (UTC); the adapters render them as ISO 8601. One file per domain; this one gathers
 * them, so `../db/schema` stays the one import for every table.
 *
 * drizzle-kit turns these files into SQL under drizzle/; read each generated file before committing.
 */
export * from "./events";
export * from "./invitations";
export * from "./memberships";
export * from "./requests";
export * from "./tenancy";
export * from "./users";
export * from "./shards";
export * from "./console";
export * from "./webhooks";
