/**
 * The SCIM 2.0 service provider at /scim/v2 (RFC 7643/7644): mounts the Users routes
 * (user-routes.ts), /Me, /Bulk (bulk.ts), the Groups routes (group-routes.ts) and discovery
 * (discovery.ts), in that order; app.ts puts requireScimScope in front. Adapters only: users are
 * created, read, changed and erased through the users core, so they are the same users as /v1.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { demandOneScope } from "../auth/middleware";
import type { AppEnv } from "../env";
import { ApiError } from "../http/errors";
import { bulkHandler } from "./bulk";
import { discoveryRoutes } from "./discovery";
import { groupRoutes } from "./group-routes";
import { userRoutes } from "./user-routes";

export const scimRouter = new Hono<AppEnv>();

/** Only tokens with the `scim` scope; other tokens are told they are not SCIM tokens. */
export const requireScimScope = createMiddleware<AppEnv>(async (c, next) => {
  demandOneScope(c, "scim", "This token is not a SCIM token: it lacks the 'scim' scope. Create a token with the 'scim' scope for your identity provider.", "scim");
  await next();
});

scimRouter.route("/", userRoutes);

scimRouter.all("/Me", () => {
  throw new ApiError("not_implemented", "/Me is not supported: SCIM tokens belong to an identity provider, not to a user.");
});

scimRouter.post("/Bulk", bulkHandler);

scimRouter.route("/", groupRoutes);

scimRouter.route("/", discoveryRoutes);
