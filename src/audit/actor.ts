/**
 * Who acted: written with every event (events.actor, JSON) and shown by the feed and the audit log.
 *
 * The actor travels with the database handle a change is written through: the request's handle
 * (app.ts) and the consumer's per-message handle are bound to their actor here, and every outbox
 * insert (src/events/outbox.ts, the SQL in memberships/statements.ts and scim/group-writes.ts)
 * reads it from the handle. So an insert path cannot forget it, and no signature had to change.
 * An unbound handle writes `system` (sweeps, maintenance).
 */
import { sql, type SQL } from "drizzle-orm";

export const ACTOR_KINDS = ["api_token", "scim", "platform", "rule", "console", "system"] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

export interface Actor {
  kind: ActorKind;
  tokenId?: string;
  tokenName?: string;
  requestId?: string;
  /** The client IP truncated to its /24 (IPv4) or /48 (IPv6): enough to tell networks apart, not people. */
  ip?: string;
  /** For `rule`: the collection whose audience rule made the change. */
  collectionId?: string;
  /** For `console`: how the admin signed in (a platform operator's one-time link, or an admin token). */
  via?: "link" | "token";
}

export const SYSTEM_ACTOR: Actor = { kind: "system" };

/** 203.0.113.77 -> 203.0.113.0/24; 2001:db8:1:2::5 -> 2001:db8:1::/48; anything else -> undefined. */
export function truncateIp(raw: string | undefined | null): string | undefined {
  if (!raw) return undefined;
  const ip = raw.trim();
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) return v4.slice(1, 4).every((o) => Number(o) <= 255) ? `${v4[1]}.${v4[2]}.${v4[3]}.0/24` : undefined;
  if (!/^[0-9a-f:]+$/i.test(ip) || !ip.includes(":")) return undefined;
  // Expand "::" so that the first three groups are the real ones.
  const [head, tail] = ip.split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  if (groups.length !== 8 || groups.some((g) => g.length > 4)) return undefined;
  return `${groups.slice(0, 3).map((g) => parseInt(g || "0", 16).toString(16)).join(":")}::/48`;
}

/** What a request handler knows about its caller. Read lazily: the token is verified with the first read. */
export interface RequestFacts {
  path: string;
  token?: { id: string; name: string };
  requestId?: string;
  clientIp?: string | null;
}

export function actorOfRequest(facts: RequestFacts): Actor {
  const kind: ActorKind = facts.path.startsWith("/platform") ? "platform" : facts.path.startsWith("/scim/") ? "scim" : facts.token ? "api_token" : "system";
  const actor: Actor = { kind };
  if (facts.token && kind !== "platform") {
    actor.tokenId = facts.token.id;
    actor.tokenName = facts.token.name;
  }
  if (facts.requestId) actor.requestId = facts.requestId;
  const ip = truncateIp(facts.clientIp);
  if (ip) actor.ip = ip;
  return actor;
}

/**
 * A console change is the signed-in admin's: the token they signed in with, or (link sign-in) the
 * platform operator who issued the link. Bound by the console's session gate (console/router.tsx).
 */
export function actorOfConsole(session: { method: "link" | "token"; tokenId: string | null }, facts: Omit<RequestFacts, "path" | "token">): Actor {
  const actor: Actor = { ...actorOfRequest({ ...facts, path: "/console" }), kind: "console", via: session.method };
  if (session.tokenId) actor.tokenId = session.tokenId;
  return actor;
}

const bound = new WeakMap<object, () => Actor>();

/** Binds `db` (a request's or a consumer message's handle) to its actor, read when an event is built. */
export function bindActor<T extends object>(db: T, actor: Actor | (() => Actor)): T {
  bound.set(db, typeof actor === "function" ? actor : () => actor);
  return db;
}

/** The request's handle is replaced once the tenant's shard is known (shards/request.ts): the actor goes with it. */
export function inheritActor<T extends object>(from: object | undefined, to: T): T {
  const actor = from ? bound.get(from) : undefined;
  if (actor) bound.set(to, actor);
  return to;
}

export function actorOf(db: object): Actor {
  return bound.get(db)?.() ?? SYSTEM_ACTOR;
}

/** The actor column's value for an event written through `db`. */
export function actorJsonOf(db: object): string {
  return JSON.stringify(actorOf(db));
}

/** For SQL-built membership events: a rule's change is the rule's; anything else is the handle's actor. */
export function actorSql(db: object, source: "manual" | "rule" | undefined, collectionColumn: SQL): SQL {
  if (source === "rule") return sql`json_object('kind', 'rule', 'collectionId', ${collectionColumn})`;
  return sql`${actorJsonOf(db)}`;
}

export function parseActor(raw: string | null | undefined): Actor {
  if (!raw) return SYSTEM_ACTOR;
  try {
    const value = JSON.parse(raw) as Actor;
    return value && typeof value === "object" && typeof value.kind === "string" ? value : SYSTEM_ACTOR;
  } catch {
    return SYSTEM_ACTOR;
  }
}
