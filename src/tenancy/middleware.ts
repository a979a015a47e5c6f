import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "../http/errors";
import { bindTenantShard, stampBookmark } from "../shards/request";
import { resolveHost } from "./resolve";

function requestHost(url: string, hostHeader: string | undefined): string {
  return hostHeader ?? new URL(url).host;
}

/** Resolves the tenant of a tenant-scoped route; refuses unknown hosts and suspended tenants. */
export const requireTenant = createMiddleware<AppEnv>(async (c, next) => {
  const resolution = await resolveHost(
    c.get("db"),
    requestHost(c.req.url, c.req.header("Host")),
    c.env.BASE_DOMAIN,
    Number(c.env.TENANT_CACHE_SECONDS ?? "5"),
  );
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
  const resolution = await resolveHost(
    c.get("db"),
    requestHost(c.req.url, c.req.header("Host")),
    c.env.BASE_DOMAIN,
    Number(c.env.TENANT_CACHE_SECONDS ?? "5"),
  );
  if (resolution.kind !== "apex") {
    throw new ApiError("route_not_found", `The platform API answers only on ${c.env.BASE_DOMAIN}.`);
  }
  await next();
});
