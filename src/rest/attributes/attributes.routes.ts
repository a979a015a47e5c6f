/**
 * Route contracts for /v1/available-attributes: paths, methods, request and response schemas, summaries.
 * They make the OpenAPI document; the handlers that answer them are in ./attributes.handlers.ts.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ATTRIBUTE_TYPES, BUILT_IN_ATTRIBUTES, CUSTOM_KEY_RE } from "../../users/attributes";
import { YIELDING_BUILT_INS } from "../../users/fields";
import { bodyErrorResponses, errorResponses, jsonBodyOf, jsonContent, problemResponse } from "../openapi";
import { pageOf, WHOLE_LIST } from "../../http/paging";
import { IdempotencyKeyHeader, idempotencyResponses, idempotent } from "../idempotency";

export const AttributeSchema = z
  .object({
    key: z.string(),
    label: z.string(),
    type: z.enum(ATTRIBUTE_TYPES),
    required: z.boolean(),
    builtIn: z.boolean(),
    enumValues: z.array(z.string()).nullable(),
    description: z.string().nullable(),
  })
  .openapi("Attribute");

const label = z.string().trim().min(1, "must not be empty").max(100);
const enumValues = z.array(z.string().min(1).max(255)).min(1, "must list at least one value").max(500);

const AttributeCreateSchema = z
  .strictObject({
    key: z
      .string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") })
      .regex(CUSTOM_KEY_RE, "must start with a letter and contain only letters, digits and _ (at most 64 characters)")
      .openapi({ example: "costCenter" }),
    label: label.optional(),
    type: z.enum(ATTRIBUTE_TYPES, { error: `must be one of: ${ATTRIBUTE_TYPES.join(", ")}` }),
    required: z.boolean().optional(),
    enumValues: enumValues.optional().openapi({ description: "Allowed values; required for type enum." }),
    description: z.string().max(500).nullable().optional(),
  })
  .openapi("AttributeCreate");

const AttributePatchSchema = z
  .strictObject({
    label: label.optional(),
    required: z.boolean().optional(),
    enumValues: enumValues.optional().openapi({ description: "Enum attributes only; may add values, never remove them." }),
    description: z.string().max(500).nullable().optional(),
  })
  .openapi("AttributePatch");

const KeyParam = z.object({ key: z.string().max(64) });

/**
 * A custom attribute may share its key with a built-in that came later (costCenter, ...); the key
 * then names the custom attribute, as it did before, and `?builtIn=true` names the built-in.
 */
const WhichQuery = z.object({
  builtIn: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional()
    .openapi({ description: "true: the built-in attribute of this name; false: the custom one. Default: the custom one if the tenant has it, else the built-in." }),
});

const tags = ["Attributes"];
const security = [{ bearerAuth: [] }];

export const list = createRoute({
  method: "get",
  path: "/v1/available-attributes",
  tags,
  security,
  summary: "List built-in and custom attributes",
  description:
    "Every built-in attribute (each can be made required) and the tenant's custom attributes. A custom attribute may share its key with a " +
    `built-in added after it (${YIELDING_BUILT_INS.join(", ")}): that built-in is then listed last, so the ` +
    "first entry of a key is the one PATCH /v1/available-attributes/{key} changes; `?builtIn=true` addresses the built-in. " +
    WHOLE_LIST + "the built-ins are fixed and custom attributes are a short, admin-made list.",
  responses: { 200: jsonContent(pageOf(AttributeSchema), "Built-ins first, then custom attributes by key, then built-ins that share a key with a custom one."), ...errorResponses },
});

export const create = createRoute({
  method: "post",
  path: "/v1/available-attributes",
  tags,
  security,
  summary: "Define a custom attribute",
  description: "To make a built-in attribute required, PATCH /v1/available-attributes/{key} instead.",
  request: { headers: IdempotencyKeyHeader, body: jsonBodyOf(AttributeCreateSchema) },
  middleware: [idempotent()],
  responses: { ...idempotencyResponses,     201: jsonContent(AttributeSchema, "Created."),
    ...errorResponses,
    409: problemResponse("The key is taken (or is a built-in attribute)."),
    ...bodyErrorResponses,
  },
});

export const update = createRoute({
  method: "patch",
  path: "/v1/available-attributes/{key}",
  tags,
  security,
  summary: "Change an attribute (label, required, enum values)",
  description:
    `Works for every built-in (label, required; ${BUILT_IN_ATTRIBUTES.filter((b) => b.alwaysRequired).map((b) => b.key).join(", ")} are always required) and custom attributes. ` +
    "The type of an attribute cannot change. Making an attribute required applies to users created or changed afterwards.",
  request: { params: KeyParam, query: WhichQuery, body: jsonBodyOf(AttributePatchSchema) },
  responses: { 200: jsonContent(AttributeSchema, "The updated attribute."), ...errorResponses, 409: problemResponse("The change is not allowed."), ...bodyErrorResponses },
});

export const remove = createRoute({
  method: "delete",
  path: "/v1/available-attributes/{key}",
  tags,
  security,
  summary: "Remove a custom attribute and its values",
  description: "Removes the definition and, in the same transaction, the attribute's value from every user of the tenant.",
  request: { params: KeyParam },
  responses: { 204: { description: "Removed." }, ...errorResponses, 409: problemResponse("Built-in attributes cannot be removed.") },
});
