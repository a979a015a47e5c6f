/**
 * Route contracts for the four collection kinds (/v1/groups, /v1/campaigns, /v1/access-groups,
 * /v1/organizations): one set of paths, methods and schemas, made once per kind. The handlers
 * that answer them are in ./collections.handlers.ts.
 */
import { PaginationSchema } from "../../http/paging";
import { intQuery } from "../../http/query";
import { createRoute, z } from "@hono/zod-openapi";
import { COLLECTION_KINDS, type KindInfo } from "../../memberships/kinds";
import { MAX_MEMBERS_PER_REQUEST } from "../../memberships/members";
import { MAX_RULE_LENGTH } from "../../memberships/rules";
import { bodyErrorResponses, errorResponses, jsonBodyOf, jsonContent, problemResponse } from "../openapi";
import { IdempotencyKeyHeader, idempotencyResponses, idempotent } from "../idempotency";

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
  limit: intQuery(1, 1000).optional().openapi({ description: "Page size, 1-1000 (default 100)." }),
  cursor: z.string().max(512).optional(),
});
const IdParam = z.object({ id: z.string().max(64).openapi({ param: { name: "id", in: "path" } }) });
const pagination = PaginationSchema;

/** The contracts for one kind, in registration order. */
export function collectionRoutes(k: KindInfo) {
  const base = `/v1/${k.segment}`;
  const tags = [k.segment];
  const title = k.label.charAt(0).toUpperCase() + k.label.slice(1);
  return {
    list: createRoute({ method: "get", path: base, tags, security, summary: `List ${k.segment}`, request: { query: Page }, responses: { 200: jsonContent(z.object({ data: z.array(CollectionSchema), pagination }), "A page."), ...errorResponses } }),
    create: createRoute({
      method: "post",
      path: base,
      tags,
      security,
      summary: `Create a ${k.label}`,
      description: "With a `rule`, matching users (existing ones in the background, new and changed ones as they change) are enrolled.",
      request: { headers: IdempotencyKeyHeader, body: jsonBodyOf(CollectionCreateSchema) },
  middleware: [idempotent()],
      responses: { ...idempotencyResponses, 201: jsonContent(CollectionSchema, "Created."), ...errorResponses, 409: problemResponse("name or externalId is taken."), ...bodyErrorResponses },
    }),
    get: createRoute({ method: "get", path: `${base}/{id}`, tags, security, summary: `Get a ${k.label}`, request: { params: IdParam }, responses: { 200: jsonContent(CollectionSchema, title), ...errorResponses } }),
    update: createRoute({
      method: "patch",
      path: `${base}/{id}`,
      tags,
      security,
      summary: `Update a ${k.label}`,
      description: "Merge patch. Changing `rule` re-applies it to every existing user in the background.",
      request: { params: IdParam, body: jsonBodyOf(CollectionPatchSchema) },
      responses: { 200: jsonContent(CollectionSchema, "Updated."), ...errorResponses, 409: problemResponse("name or externalId is taken."), ...bodyErrorResponses },
    }),
    remove: createRoute({
      method: "delete",
      path: `${base}/{id}`,
      tags,
      security,
      summary: `Delete a ${k.label}`,
      description: "Ends every current membership (kept as history) and frees the name.",
      request: { params: IdParam },
      responses: { 204: { description: "Deleted." }, ...errorResponses },
    }),
    listMembers: createRoute({
      method: "get",
      path: `${base}/{id}/members`,
      tags,
      security,
      summary: `List current members of a ${k.label}`,
      request: { params: IdParam, query: Page },
      responses: { 200: jsonContent(z.object({ data: z.array(MemberSchema), pagination }), "A page of members, by user id."), ...errorResponses },
    }),
    addMembers: createRoute({
      method: "post",
      path: `${base}/{id}/members`,
      tags,
      security,
      summary: `Add users to a ${k.label}`,
      request: { headers: IdempotencyKeyHeader, params: IdParam, body: jsonBodyOf(MembersBody) },
  middleware: [idempotent()],
      responses: { ...idempotencyResponses,         200: jsonContent(z.object({ added: z.array(z.string()), alreadyMembers: z.array(z.string()) }), "Applied."),
        ...errorResponses,
        ...bodyErrorResponses,
      },
    }),
    removeMembers: createRoute({
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
  };
}

export type CollectionRoutes = ReturnType<typeof collectionRoutes>;
