/**
 * `/v1/groups`, `/v1/campaigns`, `/v1/access-groups`, `/v1/organizations`: one set of routes,
 * registered once per kind, over the one collections mechanism in memberships/.
 */
import { coreContextOf } from "../core/from-request";
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { requireScope } from "../auth/middleware";
import type { AppEnv } from "../env";
import { createCollection, deleteCollection, getCollectionRow, listCollections, toCollection, updateCollection } from "../memberships/collections";
import { addMembers, listMembers, MAX_MEMBERS_PER_REQUEST, removeMembers } from "../memberships/members";
import { COLLECTION_KINDS, KINDS, type KindInfo } from "../memberships/kinds";
import { MAX_RULE_LENGTH } from "../memberships/rules";
import type { CoreContext } from "../core/context";
import { bodyErrorResponses, createRouter, errorResponses, jsonBodyOf, jsonContent, problemResponse } from "./openapi";

const security = [{ bearerAuth: [] }];

const CollectionSchema = z
  .object({
    id: z.string(),
    kind: z.enum(COLLECTION_KINDS),
    name: z.string(),
    externalId: z.string().nullable(),
    description: z.string().nullable(),
    rule: z.string().nullable().openapi({ description: "Audience rule (SCIM filter over user attributes); null when membership is manual only." }),
    ruleStatus: z
      .enum(["applying", "applied", "failed"])
      .nullable()
      .openapi({ description: "Progress of applying the rule to existing users. After `failed`, PATCH the same rule to run it again." }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Collection");

const name = z
  .string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") })
  .trim()
  .min(1, "must not be empty")
  .max(255);
const rule = z
  .string()
  .max(MAX_RULE_LENGTH)
  .nullable()
  .optional()
  .openapi({
    description: "SCIM filter over REST user attributes (custom attributes by key). Users who match are enrolled, and un-enrolled when they stop matching.",
    example: 'department eq "Sales" and active eq true',
  });
const fields = {
  externalId: z.string().max(255).nullable().optional(),
  description: z.string().max(1000).nullable().optional(),
  rule,
};
const CollectionCreateSchema = z.strictObject({ name, ...fields }).openapi("CollectionCreate");
const CollectionPatchSchema = z.strictObject({ name: name.optional(), ...fields }).openapi("CollectionPatch");
const MembersBody = z
  .strictObject({
    userIds: z
      .array(z.string().min(1).max(64), { error: "must be a list of user ids" })
      .min(1, "must list at least one user id")
      .max(MAX_MEMBERS_PER_REQUEST, `must list at most ${MAX_MEMBERS_PER_REQUEST} user ids`),
  })
  .openapi("MembersChange");
const MemberSchema = z
  .object({ userId: z.string(), email: z.string().nullable(), displayName: z.string().nullable(), source: z.enum(["manual", "rule"]), since: z.string() })
  .openapi("Member");
const Page = z.object({
  limit: z.coerce.number().int().min(1).max(1000).optional().openapi({ description: "Page size, 1-1000 (default 100)." }),
  cursor: z.string().max(512).optional(),
});
const IdParam = z.object({ id: z.string().max(64).openapi({ param: { name: "id", in: "path" } }) });
const pagination = z.object({ limit: z.number().int(), nextCursor: z.string().nullable() });

function coreContext(c: Context<AppEnv>): CoreContext {
  return coreContextOf(c);
}

export const collectionsRouter = createRouter();

function register(k: KindInfo) {
  const base = `/v1/${k.segment}`;
  const tags = [k.segment];
  const title = k.label.charAt(0).toUpperCase() + k.label.slice(1);
  const scope = (c: Context<AppEnv>, next: () => Promise<void>) => requireScope(c.req.method === "GET" ? "users:read" : "users:write")(c, next);
  collectionsRouter.use(base, scope);
  collectionsRouter.use(`${base}/*`, scope);

  collectionsRouter.openapi(
    createRoute({ method: "get", path: base, tags, security, summary: `List ${k.segment}`, request: { query: Page }, responses: { 200: jsonContent(z.object({ data: z.array(CollectionSchema), pagination }), "A page."), ...errorResponses } }),
    async (c) => {
      const q = c.req.valid("query");
      const limit = q.limit ?? 100;
      const page = await listCollections(coreContext(c), k.kind, { limit, cursor: q.cursor });
      return c.json({ data: page.data, pagination: { limit, nextCursor: page.nextCursor } }, 200);
    },
  );

  collectionsRouter.openapi(
    createRoute({
      method: "post",
      path: base,
      tags,
      security,
      summary: `Create a ${k.label}`,
      description: "With a `rule`, matching users (existing ones in the background, new and changed ones as they change) are enrolled.",
      request: { body: jsonBodyOf(CollectionCreateSchema) },
      responses: { 201: jsonContent(CollectionSchema, "Created."), ...errorResponses, 409: problemResponse("name or externalId is taken."), ...bodyErrorResponses },
    }),
    async (c) => {
      const created = await createCollection(coreContext(c), k.kind, c.req.valid("json"));
      c.header("Location", `${base}/${created.id}`);
      return c.json(created, 201);
    },
  );

  collectionsRouter.openapi(
    createRoute({ method: "get", path: `${base}/{id}`, tags, security, summary: `Get a ${k.label}`, request: { params: IdParam }, responses: { 200: jsonContent(CollectionSchema, title), ...errorResponses } }),
    async (c) => c.json(toCollection(await getCollectionRow(coreContext(c), k.kind, c.req.valid("param").id)), 200),
  );

  collectionsRouter.openapi(
    createRoute({
      method: "patch",
      path: `${base}/{id}`,
      tags,
      security,
      summary: `Update a ${k.label}`,
      description: "Merge patch. Changing `rule` re-applies it to every existing user in the background.",
      request: { params: IdParam, body: jsonBodyOf(CollectionPatchSchema) },
      responses: { 200: jsonContent(CollectionSchema, "Updated."), ...errorResponses, 409: problemResponse("name or externalId is taken."), ...bodyErrorResponses },
    }),
    async (c) => c.json(await updateCollection(coreContext(c), k.kind, c.req.valid("param").id, c.req.valid("json")), 200),
  );

  collectionsRouter.openapi(
    createRoute({
      method: "delete",
      path: `${base}/{id}`,
      tags,
      security,
      summary: `Delete a ${k.label}`,
      description: "Ends every current membership (kept as history) and frees the name.",
      request: { params: IdParam },
      responses: { 204: { description: "Deleted." }, ...errorResponses },
    }),
    async (c) => {
      await deleteCollection(coreContext(c), k.kind, c.req.valid("param").id);
      return c.body(null, 204);
    },
  );

  collectionsRouter.openapi(
    createRoute({
      method: "get",
      path: `${base}/{id}/members`,
      tags,
      security,
      summary: `List current members of a ${k.label}`,
      request: { params: IdParam, query: Page },
      responses: { 200: jsonContent(z.object({ data: z.array(MemberSchema), pagination }), "A page of members, by user id."), ...errorResponses },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const limit = q.limit ?? 100;
      const page = await listMembers(coreContext(c), k.kind, c.req.valid("param").id, { limit, cursor: q.cursor });
      return c.json({ data: page.data, pagination: { limit, nextCursor: page.nextCursor } }, 200);
    },
  );

  collectionsRouter.openapi(
    createRoute({
      method: "post",
      path: `${base}/{id}/members`,
      tags,
      security,
      summary: `Add users to a ${k.label}`,
      request: { params: IdParam, body: jsonBodyOf(MembersBody) },
      responses: {
        200: jsonContent(z.object({ added: z.array(z.string()), alreadyMembers: z.array(z.string()) }), "Applied."),
        ...errorResponses,
        ...bodyErrorResponses,
      },
    }),
    async (c) => c.json(await addMembers(coreContext(c), k.kind, c.req.valid("param").id, c.req.valid("json").userIds), 200),
  );

  collectionsRouter.openapi(
    createRoute({
      method: "delete",
      path: `${base}/{id}/members`,
      tags,
      security,
      summary: `Remove users from a ${k.label}`,
      description: "Ends the memberships (kept as history). A user who still matches the rule is enrolled again on their next change.",
      request: { params: IdParam, body: jsonBodyOf(MembersBody) },
      responses: {
        200: jsonContent(z.object({ removed: z.array(z.string()), notMembers: z.array(z.string()) }), "Applied."),
        ...errorResponses,
        ...bodyErrorResponses,
      },
    }),
    async (c) => c.json(await removeMembers(coreContext(c), k.kind, c.req.valid("param").id, c.req.valid("json").userIds), 200),
  );
}

for (const k of KINDS) register(k);
