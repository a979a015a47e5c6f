/** @jsxImportSource hono/jsx */
/**
 * Connect an identity provider: the tenant's SCIM base URL and a new SCIM-only token, with the
 * settings Okta's and Microsoft Entra ID's provisioning screens ask for, in their words.
 */
import type { Hono } from "hono";
import { createApiToken, listApiTokens } from "../../auth/api-token-service";
import type { ConsoleEnv } from "../env";
import { CsrfInput, dateTime, Field, formProblemOf, Layout, ProblemSummary, SecretBox, TableWrap, type FormProblem } from "../layout";
import { coreOf, formOf, pageOf, str, type ConsoleContext } from "../router";

const PROVIDERS = { okta: "Okta", entra: "Microsoft Entra ID" } as const;
type Provider = keyof typeof PROVIDERS;

function scimBaseUrl(c: ConsoleContext): string {
  const url = new URL(c.req.url);
  return `${url.protocol}//${c.req.header("Host") ?? url.host}/scim/v2`;
}

function OktaSettings(props: { base: string }) {
  return (
    <>
      <h3>In Okta</h3>
      <ol>
        <li>Applications → your app → General → App Settings: enable <strong>SCIM provisioning</strong>.</li>
        <li>Provisioning → Integration: <strong>SCIM connector base URL</strong>: <code>{props.base}</code></li>
        <li><strong>Unique identifier field for users</strong>: <code>userName</code></li>
        <li><strong>Supported provisioning actions</strong>: Push New Users, Push Profile Updates, Push Groups.</li>
        <li><strong>Authentication Mode</strong>: HTTP Header; <strong>Authorization</strong>: Bearer, with the token above.</li>
        <li>Test Connector Configuration, save, then under To App enable Create Users, Update User Attributes and Deactivate Users.</li>
      </ol>
    </>
  );
}

function EntraSettings(props: { base: string }) {
  return (
    <>
      <h3>In Microsoft Entra ID</h3>
      <ol>
        <li>Enterprise applications → your app → Provisioning → <strong>Provisioning Mode</strong>: Automatic.</li>
        <li>Admin Credentials: <strong>Tenant URL</strong>: <code>{props.base}</code></li>
        <li><strong>Secret Token</strong>: the token above. Select <strong>Test Connection</strong>.</li>
        <li>Mappings: keep userPrincipalName → userName and objectId → externalId; map mail → emails[type eq "work"].value.</li>
        <li>Settings: Scope “Sync only assigned users and groups”, then set <strong>Provisioning Status</strong> to On.</li>
      </ol>
    </>
  );
}

async function connectPage(c: ConsoleContext, extra: { created?: { token: string; provider: Provider }; problem?: FormProblem; values?: Record<string, string | string[]> } = {}) {
  const base = scimBaseUrl(c);
  const scimTokens = (await listApiTokens(coreOf(c))).filter((t) => t.scopes.includes("scim"));
  const provider = (str(extra.values?.provider) || extra.created?.provider || "okta") as Provider;
  return c.html(
    <Layout page={pageOf(c)} title="Connect an identity provider">
      <p>Identity providers push users here over SCIM 2.0. They need two things: this tenant's SCIM base URL and a token with the <code>scim</code> scope.</p>
      <SecretBox id="scim-base-url" label="SCIM base URL (Okta: SCIM connector base URL; Entra: Tenant URL)" value={base} />
      {extra.created ? (
        <div class="notice ok" role="status">
          <p><strong>SCIM token for {PROVIDERS[extra.created.provider]} created.</strong> Copy it now: it is shown only once.</p>
          <SecretBox id="scim-token" label="SCIM token (Okta: Bearer token in the Authorization header; Entra: Secret Token)" value={extra.created.token} />
          {extra.created.provider === "okta" ? <OktaSettings base={base} /> : <EntraSettings base={base} />}
        </div>
      ) : (
        <>
          <h2>Create a SCIM token</h2>
          <form method="post" action="/console/connect" class="stack" novalidate>
            <ProblemSummary problem={extra.problem} />
            <CsrfInput csrf={c.get("session").csrf} />
            <fieldset>
              <legend>Identity provider</legend>
              <div class="checks">
                {(Object.keys(PROVIDERS) as Provider[]).map((p) => (
                  <label><input type="radio" name="provider" value={p} checked={p === provider} /> {PROVIDERS[p]}</label>
                ))}
              </div>
            </fieldset>
            <Field name="name" label="Token name" value={str(extra.values?.name)} hint="Defaults to “<provider> SCIM”." error={extra.problem?.fields.name} />
            <div><button type="submit">Create SCIM token</button></div>
          </form>
        </>
      )}
      <h2>SCIM tokens</h2>
      {scimTokens.length === 0 ? <p>None yet.</p> : (
        <TableWrap label="SCIM tokens">
          <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Last used</th><th scope="col">Status</th></tr></thead>
          <tbody>{scimTokens.map((t) => <tr><td>{t.name}</td><td><code>{t.prefix}…</code></td><td>{dateTime(t.lastUsedAt)}</td><td>{t.active ? "active" : "disabled"}</td></tr>)}</tbody>
        </TableWrap>
      )}
      <p>Disable a token on the <a href="/console/tokens">API tokens</a> page.</p>
    </Layout>,
    extra.problem ? 400 : extra.created ? 201 : 200,
  );
}

export function registerConnectPages(router: Hono<ConsoleEnv>) {
  router.get("/console/connect", (c) => connectPage(c));
  router.post("/console/connect", async (c) => {
    const form = await formOf(c);
    const provider: Provider = str(form.provider) === "entra" ? "entra" : "okta";
    try {
      const created = await createApiToken(coreOf(c), { name: str(form.name) || `${PROVIDERS[provider]} SCIM`, scopes: ["scim"] });
      return connectPage(c, { created: { token: created.token, provider } });
    } catch (err) {
      return connectPage(c, { problem: formProblemOf(err), values: form });
    }
  });
}
