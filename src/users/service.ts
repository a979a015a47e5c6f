/**
 * The users core: the only place that knows what a valid user is, what is unique, what
 * deactivation and erasure mean, and which event each change emits. Adapters (REST, SCIM, Bulk,
 * invitations, the console) translate shapes and call these functions. One file per concern:
 *
 * - validate.ts  the rules, without I/O
 * - reads.ts     reading users; the read batch every write starts with
 * - write.ts     create, and what every write shares (conflicts, managers, the write batch)
 * - update.ts    the one update path (If-Match, concurrency, retries)
 * - erase.ts     erasure
 */
export { buildNewUser, type UserLookups } from "./validate";
export { getUser, readForWrite, readUserWith, type WriteReads } from "./reads";
export { createUser } from "./write";
export { deactivateUser, updateUser } from "./update";
export { eraseUser } from "./erase";
