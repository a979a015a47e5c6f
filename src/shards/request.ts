/**
 * Binds a tenant request to its shard: a D1 session on the tenant's shard (Sessions API, so reads
 * may be served by a read replica), wrapped by the request's gate (src/core/request-db.ts) so the
 * token lookup still rides in the first data batch and writes still wait for the rate limiter.
 *
 * Bookmarks. Every tenant response carries `X-D1-Bookmark: <shard>:<D1 bookmark>`. A request
 * that sends it back is served from a session that starts at least that fresh, so a client reads
 * its own writes whichever replica answers. The shard name in the value matters: a bookmark is a
 * position in ONE database's log, so a bookmark from a shard the tenant has since moved off is
 * meaningless; it is then replaced by `first-primary` (always fresh). Malformed values are
 * ignored the same way rather than rejected, so a stale or garbled header never fails a request.
 */
import { inheritActor } from "../audit/actor";
import type { Context } from "hono";
import { createDb } from "../db/client";
import { gatedD1 } from "../core/request-db";
import type { AppEnv } from "../env";
import { shardBinding, shardOf, type ShardConfig } from "./config";
import { fenceWrites } from "./fence";

export const BOOKMARK_HEADER = "X-D1-Bookmark";
/** D1 bookmarks are short hex-and-dash strings; anything else is not one. */
const BOOKMARK_RE = /^[A-Za-z0-9-]{1,200}$/;

export interface RequestShard {
  config: ShardConfig;
  session: D1DatabaseSession;
}

/** The session constraint for a request: the client's bookmark when it is for this shard. */
export function sessionConstraint(header: string | undefined, shard: ShardConfig): string {
  if (!header) return "first-unconstrained";
  const colon = header.indexOf(":");
  if (colon <= 0) return "first-primary";
  const name = header.slice(0, colon);
  const bookmark = header.slice(colon + 1).trim();
  if (name !== shard.name || !BOOKMARK_RE.test(bookmark)) return "first-primary";
  return bookmark;
}

export function formatBookmark(shard: ShardConfig, bookmark: string | null): string | null {
  return bookmark ? `${shard.name}:${bookmark}` : null;
}

/** Counts sessions per shard, for tests that prove a request touched only its tenant's shard. */
export const shardTouches = new Map<string, number>();

/** Replaces the request's database (the platform DB until now) with the tenant's shard session. */
export function bindTenantShard(c: Context<AppEnv>): void {
  const tenant = c.get("tenant");
  const config = shardOf(c.env, tenant);
  const session = shardBinding(c.env, config).withSession(sessionConstraint(c.req.header(BOOKMARK_HEADER), config));
  shardTouches.set(config.name, (shardTouches.get(config.name) ?? 0) + 1);
  const gates = c.get("gates");
  gates.authApart = c.env.READ_REPLICATION === "true";
  fenceWrites(gates, session, tenant.id, Number(c.env.TENANT_CACHE_SECONDS ?? "5"));
  c.set("shard", { config, session });
  c.set("db", inheritActor(c.get("db"), createDb(gatedD1(session as unknown as D1Database, gates))));
}

/** The token lookup's database: the primary when replicas may serve the data (see request-db.ts). */
export function tokenDb(c: Context<AppEnv>): { prepare(sql: string): D1PreparedStatement } {
  const shard = c.get("shard");
  if (!shard) return c.env.DB;
  if (c.get("gates").authApart) return shardBinding(c.env, shard.config).withSession("first-primary");
  return shard.session;
}

/** Stamps the response with the session's latest bookmark. */
export function stampBookmark(c: Context<AppEnv>): void {
  const shard = c.get("shard");
  if (!shard) return;
  const value = formatBookmark(shard.config, shard.session.getBookmark());
  if (value) c.res.headers.set(BOOKMARK_HEADER, value);
}
