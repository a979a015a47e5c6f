/** @jsxImportSource hono/jsx */
/**
 * The tenant's reference data and operations, mostly read-only here: roles, identity providers,
 * collections with their rules and members, the event feed (failed events can be replayed through
 * the same core as POST /v1/events/{id}/replay), and the rate limits that apply.
 */
import { and, asc, desc, eq, lt, sql } from "drizzle-orm";
import type { Hono } from "hono";
import { events, identityProviders, roles } from "../../db/schema";
import { dispatchEvents } from "../../events/dispatch";
import { resetEventForReplay } from "../../events/replay";
import { decodeCursor, encodeCursor } from "../../http/cursor";
import { effectiveLimits, readLimitConfig } from "../../limits/config";
import { getCollectionRow, listCollections, toCollection } from "../../memberships/collections";
import { KIND_INFO, KINDS, type CollectionKind } from "../../memberships/kinds";
import { listMembers } from "../../memberships/members";
import type { ConsoleEnv } from "../env";
import { dateTime, Layout, Notice, PostButton, TableWrap } from "../layout";
import { coreOf, pageOf, type ConsoleContext } from "../router";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

async function rolesPage(c: ConsoleContext) {
  const ctx = coreOf(c);
  const rows = await ctx.db.select().from(roles).where(eq(roles.tenantId, ctx.tenantId)).orderBy(sql`${roles.weight} DESC`, asc(roles.name)).all();
  return c.html(
    <Layout page={pageOf(c)} title="Roles">
      <p>A user holds at most one role. Manage roles with <code>/v1/roles</code>.</p>
      {rows.length === 0 ? <p>No roles yet.</p> : (
        <TableWrap label="Roles">
          <thead><tr><th scope="col">Name</th><th scope="col">Weight</th><th scope="col">Permissions</th><th scope="col">Updated</th></tr></thead>
          <tbody>{rows.map((r) => <tr><td>{r.name}</td><td>{r.weight}</td><td>{(JSON.parse(r.permissions) as string[]).join(", ") || "—"}</td><td>{dateTime(iso(r.updatedAt))}</td></tr>)}</tbody>
        </TableWrap>
      )}
    </Layout>,
  );
}

async function identityProvidersPage(c: ConsoleContext) {
  const ctx = coreOf(c);
  const rows = await ctx.db.select().from(identityProviders).where(eq(identityProviders.tenantId, ctx.tenantId)).orderBy(asc(identityProviders.name)).all();
  return c.html(
    <Layout page={pageOf(c)} title="Identity providers">
      <p>Where the tenant's users sign in; users can be bound to one. To let Okta or Entra provision users, see <a href="/console/connect">Connect an identity provider</a>.</p>
      {rows.length === 0 ? <p>No identity providers yet.</p> : (
        <TableWrap label="Identity providers">
          <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Enabled</th><th scope="col">Created</th></tr></thead>
          <tbody>{rows.map((r) => <tr><td>{r.name}</td><td><code>{r.prefix}</code></td><td>{r.enabled ? "yes" : "no"}</td><td>{dateTime(iso(r.createdAt))}</td></tr>)}</tbody>
        </TableWrap>
      )}
    </Layout>,
  );
}

async function collectionsPage(c: ConsoleContext) {
  const ctx = coreOf(c);
  const pages = await Promise.all(KINDS.map(async (k) => ({ k, page: await listCollections(ctx, k.kind, { limit: 100 }) })));
  return c.html(
    <Layout page={pageOf(c)} title="Collections">
      <p>Groups, campaigns, access groups and organizations. A rule (the filter language) enrols matching users automatically.</p>
      {pages.map(({ k, page }) => (
        <section aria-labelledby={`h-${k.kind}`}>
          <h2 id={`h-${k.kind}`}>{k.segment.replace("-", " ").replace(/^./, (x) => x.toUpperCase())}</h2>
          {page.data.length === 0 ? <p>None.</p> : (
            <TableWrap label={k.segment}>
              <thead><tr><th scope="col">Name</th><th scope="col">Rule</th><th scope="col">Rule status</th></tr></thead>
              <tbody>{page.data.map((col) => <tr><td><a href={`/console/collections/${k.kind}/${col.id}`}>{col.name}</a></td><td>{col.rule ? <code>{col.rule}</code> : "manual only"}</td><td>{col.ruleStatus ?? "—"}</td></tr>)}</tbody>
            </TableWrap>
          )}
        </section>
      ))}
    </Layout>,
  );
}

async function collectionPage(c: ConsoleContext) {
  const ctx = coreOf(c);
  const kind = c.req.param("kind") as CollectionKind;
  if (!KIND_INFO[kind]) return c.notFound();
  const id = c.req.param("id") ?? "";
  const [row, members] = await Promise.all([getCollectionRow(ctx, kind, id), listMembers(ctx, kind, id, { limit: 100, cursor: c.req.query("cursor") || undefined })]);
  const col = toCollection(row);
  return c.html(
    <Layout page={pageOf(c)} title={`${KIND_INFO[kind].label}: ${col.name}`}>
      <dl class="props">
        <dt>Rule</dt><dd>{col.rule ? <code>{col.rule}</code> : "manual only"}</dd>
        <dt>Rule status</dt><dd>{col.ruleStatus ?? "—"}</dd>
        <dt>External ID</dt><dd>{col.externalId ?? "—"}</dd>
        <dt>Description</dt><dd>{col.description ?? "—"}</dd>
      </dl>
      <h2>Members</h2>
      {members.data.length === 0 ? <p>No current members.</p> : (
        <TableWrap label="Members">
          <thead><tr><th scope="col">User</th><th scope="col">Email</th><th scope="col">Source</th><th scope="col">Since</th></tr></thead>
          <tbody>{members.data.map((m) => <tr><td><a href={`/console/users/${m.userId}`}>{m.displayName ?? m.userId}</a></td><td>{m.email ?? "—"}</td><td>{m.source}</td><td>{dateTime(m.since)}</td></tr>)}</tbody>
        </TableWrap>
      )}
      {members.nextCursor && <p><a href={`?cursor=${encodeURIComponent(members.nextCursor)}`}>Next page</a></p>}
    </Layout>,
  );
}

/** Newest first, so that what just failed is on top; `before` pages back by seq. */
async function eventsPage(c: ConsoleContext) {
  const ctx = coreOf(c);
  const failedOnly = c.req.query("status") === "failed";
  const before = c.req.query("before");
  const conditions = [eq(events.tenantId, ctx.tenantId)];
  if (failedOnly) conditions.push(eq(events.status, "failed"));
  if (before) conditions.push(lt(events.seq, Number(decodeCursor(before, "console-feed", 1)[0])));
  const rows = await ctx.db.select().from(events).where(and(...conditions)).orderBy(desc(events.seq)).limit(51).all();
  const page = rows.slice(0, 50);
  const csrf = c.get("session").csrf;
  const older = rows.length > 50 ? encodeCursor({ o: "console-feed", k: [page[page.length - 1]!.seq] }) : null;
  return c.html(
    <Layout page={pageOf(c)} title="Events">
      {c.req.query("done") === "replayed" && <Notice kind="ok">Event queued again. Processing is idempotent: no effect is applied twice.</Notice>}
      <p>{failedOnly ? <a href="/console/events">Show all events</a> : <a href="/console/events?status=failed">Show failed events only</a>}</p>
      {page.length === 0 ? <p>No events.</p> : (
        <TableWrap label="Events">
          <thead><tr><th scope="col">Event</th><th scope="col">Subject</th><th scope="col">When</th><th scope="col">Delivery</th><th scope="col">Action</th></tr></thead>
          <tbody>
            {page.map((e) => (
              <tr>
                <td>{e.type}</td>
                <td>{e.subjectId ? (e.type.startsWith("user.") ? <a href={`/console/users/${e.subjectId}`}>{e.subjectId}</a> : e.subjectId) : "—"}</td>
                <td>{dateTime(iso(e.createdAt))}</td>
                <td>{e.status} ({e.attempts} attempts){e.error ? `: ${e.error}` : ""}</td>
                <td>{e.status === "processed" ? "—" : <PostButton action={`/console/events/${e.id}/replay`} csrf={csrf} label="Replay" variant="secondary" />}</td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
      {older && <p><a href={`/console/events?${new URLSearchParams({ ...(failedOnly ? { status: "failed" } : {}), before: older })}`}>Older events</a></p>}
    </Layout>,
  );
}

function rateLimitsPage(c: ConsoleContext) {
  const config = readLimitConfig(c.env);
  const tenant = c.get("tenant");
  const limits = effectiveLimits(config, tenant);
  return c.html(
    <Layout page={pageOf(c)} title="Rate limits">
      <p>Fair use on this tenant's hosts (the API, SCIM and this console). The platform operator sets them; they are shown here read-only.</p>
      <dl class="props">
        <dt>Limiting</dt><dd>{config.enabled ? "on" : "off"}</dd>
        <dt>Per client IP</dt><dd>{limits.ipPerSecond} requests per second{tenant.rateLimitIpPerSecond != null ? " (set for this tenant)" : " (platform default)"}</dd>
        <dt>Whole tenant</dt><dd>{limits.tenantPerSecond} requests per second{tenant.rateLimitTenantPerSecond != null ? " (set for this tenant)" : " (platform default)"}</dd>
        <dt>Blocking</dt><dd>More than {config.block.threshold} refused requests from one IP within {config.block.windowSeconds} s block it for {config.block.durationSeconds} s.</dd>
      </dl>
      <p>Refused requests get 429 with Retry-After and RateLimit headers.</p>
    </Layout>,
  );
}

export function registerReferencePages(router: Hono<ConsoleEnv>) {
  router.get("/console/roles", rolesPage);
  router.get("/console/identity-providers", identityProvidersPage);
  router.get("/console/collections", collectionsPage);
  router.get("/console/collections/:kind/:id", collectionPage);
  router.get("/console/events", eventsPage);
  router.post("/console/events/:id/replay", async (c) => {
    const ctx = coreOf(c);
    const ref = await resetEventForReplay(ctx, c.req.param("id"));
    await dispatchEvents(c.env, ctx.db, [ref]);
    return c.redirect("/console/events?done=replayed", 303);
  });
  router.get("/console/rate-limits", rateLimitsPage);
}
