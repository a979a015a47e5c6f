/** @jsxImportSource hono/jsx */
/**
 * `/console` on every tenant host: the admin console, rendered on the server. Order of the gate:
 * security headers -> (assets are served before anything else) -> tenant -> rate limit -> body
 * bound -> same-origin POSTs -> session (public: sign-in and link pages) -> CSRF token on POSTs.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { except } from "hono/combine";
import { createMiddleware } from "hono/factory";
import { actorOfConsole, bindActor } from "../audit/actor";
import type { AppEnv } from "../env";
import { coreContextOf } from "../core/from-request";
import type { CoreContext } from "../core/context";
import { systemClock } from "../core/context";
import { ApiError } from "../http/errors";
import { rateLimit } from "../limits/middleware";
import { requireTenant } from "../tenancy/middleware";
import { serveAsset } from "./assets";
import type { ConsoleEnv } from "./env";
import { Layout, type PageContext } from "./layout";
import { registerAdminPages } from "./pages/admin";
import { registerConnectPages } from "./pages/connect";
import { registerReferencePages } from "./pages/reference";
import { registerSignInPages } from "./pages/sign-in";
import { registerUserPages } from "./pages/users";
import { checkCsrf, consoleHeaders, readSessionCookie, sameOriginPosts } from "./security";
import { loadSession } from "./sessions";

export type ConsoleContext = Context<ConsoleEnv>;

/** The page frame's facts for this request. */
export function pageOf(c: ConsoleContext): PageContext {
  return { tenantName: c.get("tenant")?.name ?? "Provisioning", path: new URL(c.req.url).pathname, csrf: c.get("session")?.csrf };
}

/** The users core's context: a console session acts with the rights of a tenant admin. */
export function coreOf(c: ConsoleContext): CoreContext {
  return coreContextOf(c as unknown as Context<AppEnv>);
}

/** The parsed form body of a POST (Hono caches it, so the CSRF check and the handler share one parse). */
export async function formOf(c: ConsoleContext): Promise<Record<string, string | string[]>> {
  const body = await c.req.parseBody({ all: true });
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === "string") out[k] = v;
    else if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === "string");
  }
  return out;
}

export const str = (v: string | string[] | undefined) => (Array.isArray(v) ? (v[0] ?? "") : (v ?? "")).trim();

const PUBLIC_PATHS = new Set(["/console/sign-in", "/console/link"]);

const requireSession = createMiddleware<ConsoleEnv>(async (c, next) => {
  const path = new URL(c.req.url).pathname;
  if (PUBLIC_PATHS.has(path)) return next();
  const secret = readSessionCookie(c);
  const now = (c.get("clock") ?? systemClock).now();
  const session = secret ? await loadSession(c.get("db"), c.get("tenant").id, secret, now) : null;
  if (!session) {
    if (c.req.method === "GET" || c.req.method === "HEAD") return c.redirect(secret ? "/console/sign-in?ended=1" : "/console/sign-in", 303);
    throw new ApiError("missing_token", "Your console session has ended. Sign in again.");
  }
  c.set("session", session);
  // Every change made through this request is recorded as the console admin's (audit/actor.ts).
  bindActor(c.get("db"), actorOfConsole(session, { requestId: c.get("requestId"), clientIp: c.req.header("CF-Connecting-IP") }));
  if (c.req.method === "POST") await checkCsrf(c, await formOf(c));
  await next();
});

export const consoleRouter = new Hono<ConsoleEnv>();

consoleRouter.use("/console/*", consoleHeaders);
consoleRouter.get("/console/assets/*", (c) => serveAsset(c));
consoleRouter.use(
  "/console/*",
  except(
    "/console/assets/*",
    requireTenant as never,
    rateLimit("tenant") as never,
    bodyLimit({ maxSize: 64 * 1024, onError: () => { throw new ApiError("payload_too_large", "The form is larger than 64 KB."); } }),
    sameOriginPosts,
    requireSession,
  ),
);

consoleRouter.get("/console", (c) => c.redirect("/console/users", 303));
registerSignInPages(consoleRouter);
registerUserPages(consoleRouter);
registerAdminPages(consoleRouter);
registerConnectPages(consoleRouter);
registerReferencePages(consoleRouter);

// Mounted into the app, a sub-app's notFound is not consulted: a catch-all route answers instead.
consoleRouter.all("/console/*", (c) => c.html(<Layout page={pageOf(c)} title="Not found"><p>No console page here. <a href="/console/users">Go to the users</a>.</p></Layout>, 404));

consoleRouter.onError((err, c) => {
  const apiError = err instanceof ApiError ? err : null;
  if (!apiError) console.error("console error", String(err), (err as Error)?.stack);
  const status = (apiError?.status ?? 500) as 400;
  for (const [k, v] of Object.entries(apiError?.headers ?? {})) if (k !== "WWW-Authenticate") c.header(k, v);
  const title = apiError ? apiError.title : "Something went wrong";
  const message = apiError ? apiError.message : `The console could not finish this request (request id ${c.get("requestId")}). Try again.`;
  return c.html(
    <Layout page={pageOf(c)} title={title}>
      <div class="notice error-box" role="alert">
        <p class="error">{message}</p>
      </div>
      <p>
        {(status as number) === 401 || (status as number) === 403 ? <a href="/console/sign-in">Sign in</a> : <a href="/console/users">Back to the console</a>}
      </p>
    </Layout>,
    status,
  );
});
