/** Shared OpenAPI pieces: the problem schema, error responses, and the app factory for routers. */
import { OpenAPIHono, z, type RouteConfig, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
import { ERROR_CATALOGUE } from "../http/errors";
import { strictQuery } from "../http/query";
import { validationHook } from "../http/validation";

/**
 * A router whose every route refuses query parameters its contract does not declare
 * (http/query.ts: one place derives the valid list from the route's query schema).
 */
export function createRouter() {
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const register = router.openapi;
  router.openapi = ((route, handler, hook) => register(strictQuery(route), handler, hook)) as typeof router.openapi;
  return router;
}

/**
 * Registers each named route contract with the handler of the same name, in the order given (the
 * order in which paths match). Each handler's type is checked against its contract.
 */
export function registerRoutes<R, N extends keyof R & string>(
  router: OpenAPIHono<AppEnv>,
  routes: R & { [K in N]: RouteConfig },
  handlers: { [K in N]: R[K] extends RouteConfig ? RouteHandler<R[K], AppEnv> : never },
  order: readonly N[],
): void {
  for (const name of order) router.openapi(routes[name], handlers[name] as never);
}

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: "urn:problem-type:provisioning:validation-failed" }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(Object.keys(ERROR_CATALOGUE) as [keyof typeof ERROR_CATALOGUE, ...(keyof typeof ERROR_CATALOGUE)[]]),
    instance: z.string().optional(),
    requestId: z.string().openapi({ description: "Equals the X-Request-Id response header; quote it when reporting a problem.", example: "4f1c2a9e-0d3b-4e57-9a61-3b2f8c7d1e05" }),
    errors: z.array(z.object({ path: z.string(), message: z.string() })),
  })
  .catchall(z.unknown())
  .openapi("Problem", { description: "RFC 9457 problem details. `code` is stable; `detail` and `errors` say what to fix." });

const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ProblemSchema } },
});

export const errorResponses = {
  400: problem("The request is not valid: `errors` names each field and how to fix it."),
  401: problem("Missing, malformed, unknown, disabled, expired or other-tenant token."),
  403: problem("The token lacks the scope this operation needs, or the tenant is suspended."),
  404: problem("Unknown tenant host or resource."),
  429: problem("Rate limit exceeded."),
} as const;

export const bodyErrorResponses = {
  413: problem("The body is larger than 1 MiB."),
  415: problem("The body is not JSON."),
} as const;

export const problemResponse = problem;

export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

export function jsonBodyOf<T extends z.ZodType>(schema: T, description?: string) {
  return { required: true, description, content: { "application/json": { schema } } };
}
