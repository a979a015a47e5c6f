/** @jsxImportSource hono/jsx */
/**
 * Signing in and out. A link's secret arrives in the URL once: the page it opens only offers a
 * button (so that mail scanners that fetch links do not use it up); the POST exchanges it for a
 * session cookie and redirects to a URL without it. A pasted token travels only in a POST body.
 */
import type { Hono } from "hono";
import { systemClock } from "../../core/context";
import type { ApiError } from "../../http/errors";
import type { ConsoleEnv } from "../env";
import { CsrfInput, Field, formProblemOf, Layout, Notice, ProblemSummary, type FormProblem } from "../layout";
import { coreOf, formOf, pageOf, str, type ConsoleContext } from "../router";
import { clearSessionCookie, setSessionCookie } from "../security";
import { endSession, redeemLink, signInWithToken } from "../sessions";

function SignInPage(props: { c: ConsoleContext; problem?: FormProblem; notice?: string }) {
  return (
    <Layout page={pageOf(props.c)} title="Sign in to the admin console">
      {props.notice && <Notice>{props.notice}</Notice>}
      <ProblemSummary problem={props.problem} />
      <p>
        Sign in with the one-time link your platform operator sent you, or paste an API token with the <code>admin</code> scope.
      </p>
      <form method="post" action="/console/sign-in" class="stack">
        <Field name="token" label="Admin API token" type="password" autocomplete="off" required hint="Starts with prov_. It is sent once and never shown again." error={props.problem?.fields.token} />
        <div>
          <button type="submit">Sign in</button>
        </div>
      </form>
    </Layout>
  );
}

const clockOf = (c: ConsoleContext) => c.get("clock") ?? systemClock;

export function registerSignInPages(router: Hono<ConsoleEnv>) {
  router.get("/console/sign-in", (c) => {
    const notice = c.req.query("signedOut") ? "You are signed out." : c.req.query("ended") ? "Your session has ended. Sign in again." : undefined;
    return c.html(<SignInPage c={c} notice={notice} />);
  });

  router.post("/console/sign-in", async (c) => {
    const form = await formOf(c);
    try {
      const session = await signInWithToken(c.get("db"), c.get("tenant").id, str(form.token), clockOf(c));
      setSessionCookie(c, session.secret);
      return c.redirect("/console/users", 303);
    } catch (err) {
      return c.html(<SignInPage c={c} problem={formProblemOf(err)} />, (err as ApiError).status as 401);
    }
  });

  router.get("/console/link", (c) => {
    const secret = c.req.query("secret") ?? "";
    return c.html(
      <Layout page={pageOf(c)} title="Sign in to the admin console">
        <p>This one-time link signs you in to the admin console of {c.get("tenant").name}. It works once and for 15 minutes after it was issued.</p>
        <form method="post" action="/console/link" class="stack">
          <input type="hidden" name="secret" value={secret} />
          <CsrfInput />
          <div>
            <button type="submit">Continue to the console</button>
          </div>
        </form>
      </Layout>,
    );
  });

  router.post("/console/link", async (c) => {
    const form = await formOf(c);
    try {
      const session = await redeemLink(c.get("db"), c.get("tenant").id, str(form.secret), clockOf(c));
      setSessionCookie(c, session.secret);
      return c.redirect("/console/users", 303);
    } catch (err) {
      return c.html(<SignInPage c={c} problem={formProblemOf(err)} />, 401);
    }
  });

  router.post("/console/sign-out", async (c) => {
    await endSession(coreOf(c).db, c.get("session").idHash);
    clearSessionCookie(c);
    return c.redirect("/console/sign-in?signedOut=1", 303);
  });
}
