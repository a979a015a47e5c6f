/** Host -> tenant for tenant routes (/v1, /scim/v2) and host -> apex for /platform; both resolve the host the same way. */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "../http/errors";
import { bindTenantShard, stampBookmark } from "../shards/request";
import { resolveHost } from "./resolve";

/** What the request's host (the Host header, else the URL's) resolves to: a tenant, the apex, or nothing. */
function resolveRequest(c: Context<AppEnv>) {
  return resolveHost(c.get("db"), c.req.header("Host") ?? new URL(c.req.url).host, c.env.BASE_DOMAIN, Number(c.env.TENANT_CACHE_SECONDS ?? "5"));
}

/** Resolves the tenant of a tenant-scoped route; refuses unknown hosts and suspended tenants. */
export const requireTenant = createMiddleware<AppEnv>(async (c, next) => {
  const resolution = await resolveRequest(c);
  if (resolution.kind !== "tenant") {
    throw new ApiError(
      "tenant_not_found",
      resolution.kind === "apex"
        ? `The apex host serves only /platform; tenant APIs live at <slug>.${c.env.BASE_DOMAIN}.`
        : "No tenant is configured for this host. Check the subdomain or the custom domain mapping.",
    );
  }
  if (resolution.tenant.suspended) {
    throw new ApiError("tenant_suspended", `Tenant '${resolution.tenant.slug}' is suspended. Contact the platform operator.`);
  }
  c.set("tenant", resolution.tenant);
  // From here on the request's database is the tenant's shard (src/shards/request.ts).
  bindTenantShard(c);
  await next();
  stampBookmark(c);
});

/** Only lets requests through on the apex host (BASE_DOMAIN itself). */
export const requireApex = createMiddleware<AppEnv>(async (c, next) => {
  const resolution = await resolveRequest(c);
  if (resolution.kind !== "apex") {
    throw new ApiError("route_not_found", `The platform API answers only on ${c.env.BASE_DOMAIN}.`);
  }
  await next();
});
