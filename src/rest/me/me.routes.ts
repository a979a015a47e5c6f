/**
 * Route contract for GET /v1/me: who the calling token is. It makes the OpenAPI document; the
 * handler that answers it is in ./me.handlers.ts.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { SCOPES } from "../../auth/tokens";
import { errorResponses, jsonContent } from "../openapi";

const MeSchema = z
  .object({
    tenant: z.object({ id: z.string(), slug: z.string(), name: z.string() }).openapi({ description: "The tenant the token belongs to (the one this host serves)." }),
    token: z
      .object({
        id: z.string(),
        name: z.string(),
        scopes: z.array(z.enum(SCOPES)),
        prefix: z.string().openapi({ description: "The first characters of the secret, as GET /v1/api-tokens lists them.", example: "prov_3kT9aZ" }),
        createdAt: z.string(),
        expiresAt: z.string().nullable().openapi({ description: "null: the token never expires." }),
        lastUsedAt: z.string().nullable().openapi({ description: "Including this request; recorded at most once a minute." }),
      })
      .openapi({ description: "The token that made this request (never its secret)." }),
  })
  .openapi("Me");

export const get = createRoute({
  method: "get",
  path: "/v1/me",
  tags: ["API tokens"],
  security: [{ bearerAuth: [] }],
  summary: "Who am I: the calling token and its tenant",
  description:
    "Any valid token of the tenant may call it, whatever its scopes (SCIM-only and `auth` tokens too): it shows only the token's own metadata, " +
    "so an integrator can check which token and tenant a configuration uses, and which scopes it has, before anything else. " +
    "Costs no query of its own: the answer comes from the token check.",
  responses: { 200: jsonContent(MeSchema, "The calling token and its tenant."), ...errorResponses },
});
