/** @jsxImportSource hono/jsx */
/**
 * Users: search with the filter language (the same compiler as GET /v1/users?filter=), page by
 * cursor, create, and one user with memberships, provisioning and history; deactivate, reactivate
 * and erase (behind typing the user's email) through the users core.
 */
import type { Hono } from "hono";
import { userHistory } from "../../events/replay";
import { provisioningQuery, toProvisioning } from "../../memberships/provisioning";
import { toUserMemberships, userMembershipsQuery } from "../../memberships/collections";
import { compileRestFilter } from "../../rest/user-filter";
import { listAttributes } from "../../users/attribute-admin";
import { compileWithDefinitionsIfNeeded } from "../../users/filter-attributes";
import { listUsers } from "../../users/queries";
import { createUser, deactivateUser, eraseUser, getUser, readUserWith, updateUser } from "../../users/service";
import { ApiError } from "../../http/errors";
import type { ConsoleEnv } from "../env";
import { dateTime, Field, formProblemOf, Layout, Notice, PostButton, ProblemSummary, TableWrap, CsrfInput, type FormProblem } from "../layout";
import { coreOf, formOf, pageOf, str, type ConsoleContext } from "../router";
import { UserCreateForm, userFieldsOf } from "./user-form";
import type { User } from "../../users/model";

const PAGE_SIZE = 25;
const DONE: Record<string, string> = { created: "User created.", deactivated: "User deactivated.", reactivated: "User reactivated.", erased: "User erased. Only the id remains." };

function StatusBadge(props: { user: Pick<User, "status"> }) {
  const kind = props.user.status === "active" ? "ok" : props.user.status === "inactive" ? "off" : "warn";
  return <span class={`badge ${kind}`}>{props.user.status}</span>;
}

async function listPage(c: ConsoleContext) {
  const ctx = coreOf(c);
  const filter = (c.req.query("filter") ?? "").trim();
  const q = (c.req.query("q") ?? "").trim();
  const cursor = c.req.query("cursor") || undefined;
  let problem: FormProblem | undefined;
  let page: Awaited<ReturnType<typeof listUsers>> = { data: [], nextCursor: null };
  try {
    const where = filter ? await compileWithDefinitionsIfNeeded(ctx, (attrs) => compileRestFilter(filter, attrs, 1000)) : undefined;
    page = await listUsers(ctx, { where, q: q || undefined, limit: PAGE_SIZE, cursor });
  } catch (err) {
    problem = formProblemOf(err);
    problem.fields.filter ??= problem.message;
  }
  const next = new URLSearchParams({ ...(filter ? { filter } : {}), ...(q ? { q } : {}), ...(page.nextCursor ? { cursor: page.nextCursor } : {}) });
  const done = DONE[c.req.query("done") ?? ""];
  return c.html(
    <Layout page={pageOf(c)} title="Users">
      {done && <Notice kind="ok">{done}</Notice>}
      <p>
        <a class="button" href="/console/users/new">Create a user</a>
      </p>
      <form method="get" action="/console/users" class="stack" role="search">
        <Field name="filter" label="Filter" type="search" value={filter} hint='The API filter language, e.g. department eq "Sales" and active eq true, or email sw "ada".' error={problem?.fields.filter} />
        <Field name="q" label="Name or email starts with" type="search" value={q} error={problem?.fields.q} />
        <div>
          <button type="submit">Search</button>
        </div>
      </form>
      <h2>{filter || q ? "Matching users" : "All users"}</h2>
      {page.data.length === 0 ? (
        <p>No users{filter || q ? " match" : " yet"}.</p>
      ) : (
        <TableWrap label="Users">
          <thead>
            <tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">External ID</th><th scope="col">Status</th><th scope="col">Updated</th></tr>
          </thead>
          <tbody>
            {page.data.map((u) => (
              <tr>
                <td><a href={`/console/users/${u.id}`}>{u.displayName}</a></td>
                <td>{u.email}</td>
                <td>{u.externalId}</td>
                <td><StatusBadge user={u} /></td>
                <td>{dateTime(u.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
      <nav class="pager" aria-label="Pages">
        {cursor && <a href={`/console/users?${new URLSearchParams({ ...(filter ? { filter } : {}), ...(q ? { q } : {}) })}`}>First page</a>}
        {page.nextCursor && <a href={`/console/users?${next}`}>Next page</a>}
      </nav>
    </Layout>,
    problem ? 400 : 200,
  );
}

async function newUserPage(c: ConsoleContext, values: Record<string, string | string[]> = {}, problem?: FormProblem) {
  const attributes = await listAttributes(coreOf(c));
  return c.html(
    <Layout page={pageOf(c)} title="Create a user">
      <p class="hint">The same rules apply as to the API and SCIM: every required attribute must have a value.</p>
      <UserCreateForm csrf={c.get("session").csrf} attributes={attributes} values={values} problem={problem} />
    </Layout>,
    problem ? 400 : 200,
  );
}

async function userPage(c: ConsoleContext, id: string, problem?: FormProblem) {
  const ctx = coreOf(c);
  const [[user, provisioningRows, membershipRows], history] = await Promise.all([
    readUserWith(ctx, id, [provisioningQuery(ctx, id), userMembershipsQuery(ctx, id)]),
    userHistory(ctx, id, 25),
  ]);
  const provisioning = toProvisioning(provisioningRows[0]);
  const memberships = Object.entries(toUserMemberships(membershipRows)).flatMap(([kind, items]) => items.map((m) => ({ kind, ...m })));
  const csrf = c.get("session").csrf;
  const done = DONE[c.req.query("done") ?? ""];
  const shown: Array<[string, string | null]> = [["Email", user.email], ["External ID", user.externalId], ["First name", user.firstName], ["Last name", user.lastName], ["Department", user.department], ["Job title", user.title], ["Role", user.role], ["Created", dateTime(user.createdAt)], ["Updated", dateTime(user.updatedAt)]];
  return c.html(
    <Layout page={pageOf(c)} title={user.displayName}>
      {done && <Notice kind="ok">{done}</Notice>}
      <ProblemSummary problem={problem} />
      <p>Status: <StatusBadge user={user} /></p>
      <dl class="props">
        {shown.map(([k, v]) => (<><dt>{k}</dt><dd>{v ?? "—"}</dd></>))}
        {Object.entries(user.attributes).map(([k, v]) => (<><dt>{k}</dt><dd>{String(v)}</dd></>))}
      </dl>
      <h2>Actions</h2>
      <div class="row">
        {user.active ? <PostButton action={`/console/users/${id}/deactivate`} csrf={csrf} label="Deactivate" variant="secondary" /> : <PostButton action={`/console/users/${id}/reactivate`} csrf={csrf} label="Reactivate" />}
      </div>
      <h2>Provisioning</h2>
      {provisioning ? (
        <>
          <p>Status of the latest change's side effects: <strong>{provisioning.status}</strong> (requested {dateTime(provisioning.requestedAt)}, completed {dateTime(provisioning.completedAt)}).</p>
          {provisioning.errors.length > 0 && <ul>{provisioning.errors.map((e) => <li>{e.kind} {e.id}: {e.reason}</li>)}</ul>}
        </>
      ) : <p>No provisioning recorded.</p>}
      <h2>Memberships</h2>
      {memberships.length === 0 ? <p>None.</p> : (
        <TableWrap label="Memberships">
          <thead><tr><th scope="col">Kind</th><th scope="col">Name</th><th scope="col">Source</th><th scope="col">Since</th></tr></thead>
          <tbody>{memberships.map((m) => <tr><td>{m.kind}</td><td>{m.name}</td><td>{m.source}</td><td>{dateTime(m.since)}</td></tr>)}</tbody>
        </TableWrap>
      )}
      <h2>History</h2>
      {history.length === 0 ? <p>No events.</p> : (
        <TableWrap label="History">
          <thead><tr><th scope="col">Event</th><th scope="col">When</th><th scope="col">Delivery</th></tr></thead>
          <tbody>{history.map((e) => <tr><td>{e.type}</td><td>{dateTime(new Date(e.createdAt).toISOString())}</td><td>{e.status}{e.error ? `: ${e.error}` : ""}</td></tr>)}</tbody>
        </TableWrap>
      )}
      <h2>Erase</h2>
      <form method="post" action={`/console/users/${id}/erase`} class="stack">
        <CsrfInput csrf={csrf} />
        <p>Erasing removes this user's personal data for good; only the id remains. It cannot be undone.</p>
        <Field name="confirm" label={`Type the user's email (${user.email}) to confirm`} autocomplete="off" error={problem?.fields.confirm} />
        <div><button type="submit" class="danger">Erase this user</button></div>
      </form>
    </Layout>,
    problem ? 400 : 200,
  );
}

export function registerUserPages(router: Hono<ConsoleEnv>) {
  router.get("/console/users", listPage);
  router.get("/console/users/new", (c) => newUserPage(c));
  router.post("/console/users", async (c) => {
    const form = await formOf(c);
    const ctx = coreOf(c);
    try {
      const user = await createUser(ctx, userFieldsOf(form, await listAttributes(ctx)));
      return c.redirect(`/console/users/${user.id}?done=created`, 303);
    } catch (err) {
      return newUserPage(c, form, formProblemOf(err));
    }
  });
  router.get("/console/users/:id", (c) => userPage(c, c.req.param("id")));
  router.post("/console/users/:id/deactivate", async (c) => {
    await deactivateUser(coreOf(c), c.req.param("id"));
    return c.redirect(`/console/users/${c.req.param("id")}?done=deactivated`, 303);
  });
  router.post("/console/users/:id/reactivate", async (c) => {
    await updateUser(coreOf(c), c.req.param("id"), { active: true });
    return c.redirect(`/console/users/${c.req.param("id")}?done=reactivated`, 303);
  });
  router.post("/console/users/:id/erase", async (c) => {
    const id = c.req.param("id");
    const ctx = coreOf(c);
    const user = await getUser(ctx, id);
    if (str((await formOf(c)).confirm).toLowerCase() !== user.email.toLowerCase()) {
      const problem = formProblemOf(new ApiError("validation_failed", "The confirmation does not match the user's email; nothing was erased.", { errors: [{ path: "confirm", message: `must be ${user.email}` }] }));
      return userPage(c, id, problem);
    }
    await eraseUser(ctx, id);
    return c.redirect("/console/users?done=erased", 303);
  });
}
