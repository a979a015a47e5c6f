/** @jsxImportSource hono/jsx */
/** API tokens and attributes: created, disabled and changed through the same core as /v1. */
import type { Hono } from "hono";
import { createApiToken, disableApiToken, listApiTokens, type ApiTokenView } from "../../auth/api-token-service";
import { SCOPES } from "../../auth/tokens";
import { ATTRIBUTE_TYPES, type AttributeType } from "../../users/attributes";
import { changeAttribute, defineAttribute, listAttributes } from "../../users/attribute-admin";
import type { ConsoleEnv } from "../env";
import { CsrfInput, dateTime, Field, formProblemOf, Layout, Notice, PostButton, ProblemSummary, SecretBox, TableWrap, type FormProblem } from "../layout";
import { coreOf, formOf, pageOf, str, type ConsoleContext } from "../router";

const SCOPE_HINTS: Record<string, string> = {
  "users:read": "read users, events and reference data",
  "users:write": "create, change and deactivate users",
  admin: "tokens, attributes, roles, erasure, replay, this console",
  scim: "SCIM 2.0 only, for an identity provider",
};

function TokensTable(props: { tokens: ApiTokenView[]; csrf: string }) {
  return (
    <TableWrap label="API tokens">
      <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Status</th><th scope="col">Action</th></tr></thead>
      <tbody>
        {props.tokens.map((t) => (
          <tr>
            <td>{t.name}</td>
            <td><code>{t.prefix}…</code></td>
            <td>{t.scopes.join(", ")}</td>
            <td>{dateTime(t.createdAt)}</td>
            <td>{dateTime(t.lastUsedAt)}</td>
            <td>{t.active ? <span class="badge ok">active</span> : <span class="badge off">{t.disabledAt ? "disabled" : "expired"}</span>}</td>
            <td>{t.active ? <PostButton action={`/console/tokens/${t.id}/disable`} csrf={props.csrf} label={`Disable ${t.name}`} variant="secondary" /> : "—"}</td>
          </tr>
        ))}
      </tbody>
    </TableWrap>
  );
}

async function tokensPage(c: ConsoleContext, extra: { created?: { token: string; apiToken: ApiTokenView }; problem?: FormProblem; values?: Record<string, string | string[]> } = {}) {
  const tokens = await listApiTokens(coreOf(c));
  const csrf = c.get("session").csrf;
  const chosen = new Set([extra.values?.scopes ?? []].flat());
  return c.html(
    <Layout page={pageOf(c)} title="API tokens">
      {c.req.query("done") === "disabled" && <Notice kind="ok">Token disabled. It stops working on its next request.</Notice>}
      {extra.created && (
        <div class="notice ok" role="status">
          <p><strong>Token “{extra.created.apiToken.name}” created.</strong> Copy it now: it is shown only once and cannot be retrieved later.</p>
          <SecretBox id="new-token" label="The new token" value={extra.created.token} />
        </div>
      )}
      <h2>Create a token</h2>
      <form method="post" action="/console/tokens" class="stack" novalidate>
        <ProblemSummary problem={extra.problem} />
        <CsrfInput csrf={csrf} />
        <Field name="name" label="Name" required value={str(extra.values?.name)} hint="Say what uses it, e.g. Workday integration." error={extra.problem?.fields.name} />
        <fieldset aria-describedby={extra.problem?.fields.scopes ? "scopes-error" : undefined}>
          <legend>Scopes</legend>
          <div class="checks">
            {SCOPES.map((s) => (
              <label><input type="checkbox" name="scopes" value={s} checked={chosen.has(s)} /> {s} <span class="hint">({SCOPE_HINTS[s]})</span></label>
            ))}
          </div>
          {extra.problem?.fields.scopes && <p class="error" id="scopes-error">{extra.problem.fields.scopes}</p>}
        </fieldset>
        <div><button type="submit">Create token</button></div>
      </form>
      <h2>Tokens</h2>
      <TokensTable tokens={tokens} csrf={csrf} />
    </Layout>,
    extra.problem ? 400 : extra.created ? 201 : 200,
  );
}

async function attributesPage(c: ConsoleContext, problem?: FormProblem, values: Record<string, string | string[]> = {}) {
  const attributes = await listAttributes(coreOf(c));
  const csrf = c.get("session").csrf;
  const done = c.req.query("done");
  return c.html(
    <Layout page={pageOf(c)} title="Attributes">
      {done && <Notice kind="ok">{done === "defined" ? "Attribute defined." : "Attribute updated. It applies to users created or changed from now on."}</Notice>}
      <p>Built-in and custom attributes. A required attribute must have a value on every user created or changed from now on, whether through the API, SCIM or this console.</p>
      <TableWrap label="Attributes">
        <thead><tr><th scope="col">Key</th><th scope="col">Label</th><th scope="col">Type</th><th scope="col">Kind</th><th scope="col">Required</th><th scope="col">Action</th></tr></thead>
        <tbody>
          {attributes.map((a) => (
            <tr>
              <td><code>{a.key}</code></td>
              <td>{a.label}</td>
              <td>{a.type}{a.enumValues ? `: ${a.enumValues.join(", ")}` : ""}</td>
              <td>{a.builtIn ? "built-in" : "custom"}</td>
              <td>{a.required ? "yes" : "no"}</td>
              <td>
                <form method="post" action="/console/attributes/required" class="inline">
                  <CsrfInput csrf={csrf} />
                  <input type="hidden" name="key" value={a.key} />
                  <input type="hidden" name="builtIn" value={String(a.builtIn)} />
                  <input type="hidden" name="required" value={String(!a.required)} />
                  <button type="submit" class="secondary">{a.required ? `Make ${a.key} optional` : `Make ${a.key} required`}</button>
                </form>
              </td>
            </tr>
          ))}
        </tbody>
      </TableWrap>
      <h2>Define a custom attribute</h2>
      <form method="post" action="/console/attributes" class="stack" novalidate>
        <ProblemSummary problem={problem} />
        <CsrfInput csrf={csrf} />
        <Field name="key" label="Key" required value={str(values.key)} hint="Starts with a letter; letters, digits and _ only. Used in the API as attributes.<key>." error={problem?.fields.key} />
        <Field name="label" label="Label" value={str(values.label)} error={problem?.fields.label} />
        <Field name="type" label="Type" required value={str(values.type) || "string"} options={[...ATTRIBUTE_TYPES]} error={problem?.fields.type} />
        <Field name="enumValues" label="Allowed values (enum only)" value={str(values.enumValues)} hint="Comma-separated." error={problem?.fields.enumValues} />
        <div class="checks"><label><input type="checkbox" name="required" value="true" checked={str(values.required) === "true"} /> Required for every user</label></div>
        <div><button type="submit">Define attribute</button></div>
      </form>
    </Layout>,
    problem ? (problem.fields.key === "is taken" || problem.fields.key === "is a built-in attribute" ? 409 : 400) : 200,
  );
}

export function registerAdminPages(router: Hono<ConsoleEnv>) {
  router.get("/console/tokens", (c) => tokensPage(c));
  router.post("/console/tokens", async (c) => {
    const form = await formOf(c);
    try {
      const created = await createApiToken(coreOf(c), { name: str(form.name), scopes: [form.scopes ?? []].flat() });
      return tokensPage(c, { created });
    } catch (err) {
      return tokensPage(c, { problem: formProblemOf(err), values: form });
    }
  });
  router.post("/console/tokens/:id/disable", async (c) => {
    await disableApiToken(coreOf(c), c.req.param("id"));
    return c.redirect("/console/tokens?done=disabled", 303);
  });

  router.get("/console/attributes", (c) => attributesPage(c));
  router.post("/console/attributes", async (c) => {
    const form = await formOf(c);
    const enumText = str(form.enumValues);
    try {
      await defineAttribute(coreOf(c), {
        key: str(form.key),
        label: str(form.label) || undefined,
        type: str(form.type) as AttributeType,
        required: str(form.required) === "true",
        enumValues: enumText ? enumText.split(",").map((v) => v.trim()).filter(Boolean) : undefined,
      });
      return c.redirect("/console/attributes?done=defined", 303);
    } catch (err) {
      return attributesPage(c, formProblemOf(err), form);
    }
  });
  router.post("/console/attributes/required", async (c) => {
    const form = await formOf(c);
    await changeAttribute(coreOf(c), str(form.key), str(form.builtIn) === "true", { required: str(form.required) === "true" });
    return c.redirect("/console/attributes?done=changed", 303);
  });
}
