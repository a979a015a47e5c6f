/**
 * Builds the Hono app. Order matters and mirrors the request flow in DESIGN.md:
 * request id -> tenancy -> (limits) -> auth -> body guard -> adapter -> users core.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { requestId } from "hono/request-id";
import { actorOfRequest, bindActor } from "./audit/actor";
import { authenticate } from "./auth/middleware";
import { requestFanout } from "./webhooks/fanout";
import { createDb } from "./db/client";
import { apiReference } from "./docs/reference";
import type { Clock } from "./core/context";
import { gatedD1, type RequestGates } from "./core/request-db";
import type { Limiter } from "./limits/limiter";
import type { AppEnv } from "./env";
import { jsonBody, jsonOrXmlBody } from "./http/body";
import { cors } from "./http/cors";
import { allowedMethodsOf, methodGuard } from "./http/methods";
import { urlText } from "./http/query";
import { ApiError } from "./http/errors";
import { renderProblem, toApiError } from "./http/problem";
import { validationHook } from "./http/validation";
import { xmlResponses } from "./http/xml";
import { finishRestDocument, REST_INFO } from "./openapi/document";
import type { OpenApiDoc } from "./openapi/types";
import { rateLimit } from "./limits/middleware";
import { blocksRouter } from "./platform/blocks";
import { consoleLinksRouter } from "./platform/console-links";
import { consoleRouter } from "./console/router";
import { platformRouter } from "./platform/tenants";
import { shardsRouter } from "./shards/routes";
import { apiTokensRouter } from "./rest/api-tokens";
import { meRouter } from "./rest/me";
import { attributesRouter } from "./rest/attributes";
import { identityProvidersRouter } from "./rest/identity-providers";
import { invitationsRouter } from "./rest/invitations";
import { rolesRouter } from "./rest/roles";
import { collectionsRouter } from "./rest/collections";
import { eventsRouter } from "./rest/events";
import { auditLogRouter } from "./rest/audit-log";
import { webhooksRouter } from "./rest/webhooks";
import { usersRouter } from "./rest/users";
import { userActivityRouter } from "./rest/user-activity/routes";
import { userDevicesRouter } from "./rest/user-devices/routes";
import { userPasswordRouter } from "./rest/user-password/routes";
import { userReplaceRouter } from "./rest/user-replace/routes";
import { isScimPath, renderScimError } from "./scim/http";
import { buildScimDocument } from "./scim/openapi";
import { requireScimScope, rootQuery, scimRouter } from "./scim/router";
import { requireApex, requireTenant } from "./tenancy/middleware";

export { API_VERSION } from "./openapi/document";

/**
 * Services a test or benchmark may swap in. Production uses the wall clock and the Durable
 * Object limiter; a test injects a manual clock (no sleeping) or an in-memory limiter.
 */
export interface AppServices {
  clock?: Clock;
  limiter?: Limiter;
}

export function createApp(services: AppServices = {}) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use("*", requestId({ limitLength: 128 }));
  // The per-request context: the gated database every later step uses, the clock, the limiter.
  app.use("*", async (c, next) => {
    const gates: RequestGates = {};
    c.set("gates", gates);
    // Every event this request writes records who acted (read when the event is built, by then the token is verified).
    const actor = () => actorOfRequest({ path: c.req.path, token: c.get("token"), requestId: c.get("requestId"), clientIp: c.req.header("CF-Connecting-IP") });
    c.set("db", bindActor(createDb(gatedD1(c.env.DB, gates)), actor));
    if (services.clock) c.set("clock", services.clock);
    if (services.limiter) c.set("limiter", services.limiter);
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    // Every response carries the request id (the contract says so), also a Response a handler
    // built itself, such as an idempotent replay.
    if (!c.res.headers.has("X-Request-Id")) c.header("X-Request-Id", c.get("requestId"));
    // A change may have written feed events (also feed-only ones, which never pass the events
    // queue): ask webhooks to fan them out now rather than at the next sweep.
    const tenant = c.get("tenant");
    if (tenant && c.req.method !== "GET" && c.req.method !== "HEAD" && c.res.status < 300) c.executionCtx.waitUntil(requestFanout(c.env, [tenant.id]));
  });

  // CORS (http/cors.ts) wraps everything else on these paths, so errors get its headers too, and
  // answers preflights before tenancy, limits and auth. Not /platform nor /console.
  for (const path of ["/v1/*", "/scim/v2/*", "/openapi.json", "/docs"]) app.use(path, cors);
  // The URL's text (http/query.ts) is judged before anything uses it.
  app.use("*", urlText);
  // Rate limits: after the tenant is known, before authentication and any DB work. The platform
  // API and the discovery documents count only against the client IP. A method the path does not
  // have is a 405 (http/methods.ts) before any body is read.
  const methods = methodGuard(app);
  app.use("/platform/*", requireApex, rateLimit("ip"), methods, jsonBody);
  app.use("/v1/*", xmlResponses, requireTenant, rateLimit("tenant"), authenticate, methods, jsonOrXmlBody);
  app.use("/openapi.json", rateLimit("ip"));
  app.use("/docs", rateLimit("ip"));
  // SCIM: same tenancy, rate limit and tokens as /v1, but only tokens with the `scim` scope; bodies
  // may be application/scim+json or application/json (the body guard accepts any +json type).
  // The SCIM contract is the same for every tenant and names no tenant data: served without a
  // token (registered before the SCIM middleware, which it therefore never reaches).
  let scimDocument: OpenApiDoc | undefined;
  app.get("/scim/v2/openapi.json", requireTenant, rateLimit("ip"), (c) => {
    scimDocument ??= buildScimDocument();
    return c.json({ ...scimDocument, servers: [{ url: `${new URL(c.req.url).origin}/scim/v2`, description: "This tenant's SCIM base URL." }] });
  });
  app.use("/scim/v2/*", requireTenant, rateLimit("tenant"), authenticate, requireScimScope, jsonBody);

  app.route("/", platformRouter);
  app.route("/", blocksRouter);
  app.route("/", shardsRouter);
  app.route("/", consoleLinksRouter);
  app.route("/", usersRouter);
  app.route("/", userReplaceRouter);
  app.route("/", userPasswordRouter);
  app.route("/", userActivityRouter);
  app.route("/", userDevicesRouter);
  app.route("/", apiTokensRouter);
  app.route("/", meRouter);
  app.route("/", attributesRouter);
  app.route("/", rolesRouter);
  app.route("/", identityProvidersRouter);
  app.route("/", invitationsRouter);
  app.route("/", collectionsRouter);
  app.route("/", eventsRouter);
  app.route("/", webhooksRouter);
  app.route("/", auditLogRouter);
  app.route("/scim/v2", scimRouter);
  app.get("/scim/v2/", rootQuery);
  app.route("/", consoleRouter);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "A tenant API token (prov_...), sent on the tenant's host.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "platformAdmin", {
    type: "http",
    scheme: "bearer",
    description: "The PLATFORM_ADMIN_TOKEN secret, sent on the apex host.",
  });
  // The document only varies by `servers`, so it is built once per app (isolate): it grows with
  // every route, and building it on each request made /openapi.json the slowest read.
  let openApiDocument: OpenApiDoc | undefined;
  app.get("/openapi.json", (c) => {
    openApiDocument ??= finishRestDocument(app.getOpenAPI31Document({ openapi: "3.1.0", info: REST_INFO }) as unknown as OpenApiDoc);
    return c.json({ ...openApiDocument, servers: [{ url: new URL(c.req.url).origin, description: "This host." }] });
  });
  // The reference UI: its script is a static asset of this Worker (src/docs/reference.ts), no CDN.
  app.get("/docs", apiReference);

  app.notFound((c: Context<AppEnv>) => {
    const path = new URL(c.req.url).pathname;
    const allowed = allowedMethodsOf(app, path);
    if (isScimPath(c.req.url)) {
      return renderScimError(
        c,
        allowed.length > 0
          ? new ApiError("method_not_allowed", `${c.req.method} is not supported here; use ${allowed.join(", ")}.`, { headers: { Allow: allowed.join(", ") } })
          : new ApiError("route_not_found", `No SCIM endpoint matches ${c.req.method} ${path}. This service offers /scim/v2/Users, /Groups, /Bulk, /.search and discovery (/ServiceProviderConfig, /ResourceTypes, /Schemas).`),
      );
    }
    if (allowed.length > 0) {
      return renderProblem(
        c,
        new ApiError("method_not_allowed", `${c.req.method} is not supported here; use ${allowed.join(", ")}.`, { headers: { Allow: allowed.join(", ") } }),
      );
    }
    return renderProblem(c, new ApiError("route_not_found", `No endpoint matches ${c.req.method} ${path}. The API reference is at /docs.`));
  });

  app.onError((err, c) => {
    const apiError = toApiError(err, c.get("requestId"));
    return isScimPath(c.req.url) ? renderScimError(c, apiError) : renderProblem(c, apiError);
  });

  return app;
}
