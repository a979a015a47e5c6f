/**
 * The REST user schemas (requests and response), built from the field table (users/fields.ts) so
 * that validation, the OpenAPI document and the XML description name the same fields as the core.
 */
import { z } from "@hono/zod-openapi";
import { KINDS, MAX_IDS_PER_KIND } from "../../memberships/kinds";
import { FIELD_ENTRIES, READ_ONLY_FIELDS, USER_FIELDS, type FieldName, type FieldSpec, type NonNullField, type ReadOnlyField } from "../../users/fields";
import { accountInputFields, accountResponseFields } from "../user-account-schemas";

const docs = (f: FieldSpec) => ({ description: f.description, ...(f.example ? { example: f.example } : {}) });

const requiredStr = (f: FieldSpec) =>
  z
    .string({ error: (issue) => `${issue.input === undefined ? "is required" : "must be a string"}${f.example ? `, e.g. ${f.example}` : ""}` })
    .max(f.maxLength)
    .openapi(docs(f));

const optionalStr = (f: FieldSpec) => z.string().max(f.maxLength).nullable().optional().openapi(docs(f));

type Spec<K extends FieldName> = (typeof USER_FIELDS)[K];
type Optional = ReturnType<typeof optionalStr>;
type CreateShape = { [K in FieldName]: Spec<K>["alwaysRequired"] extends true ? z.ZodString : Optional };
type PatchShape = { [K in FieldName]: Optional };
type ResponseShape = { [K in FieldName]: K extends NonNullField ? z.ZodString : z.ZodNullable<z.ZodString> };

/** Per field, in table order, with the by-name alternative (`role`) right before its id. */
function shape<T>(build: (f: FieldSpec) => z.ZodType, byName: (b: NonNullable<FieldSpec["byName"]>) => z.ZodType): T {
  const out: Record<string, z.ZodType> = {};
  for (const [name, f] of FIELD_ENTRIES) {
    if (f.byName) out[f.byName.key] = byName(f.byName);
    out[name] = build(f);
  }
  return out as T;
}

const byNameInput = (b: NonNullable<FieldSpec["byName"]>) =>
  z.string().max(b.maxLength).nullable().optional().openapi({ description: b.description, example: b.example });

const AttributesSchema = z
  .record(z.string(), z.unknown())
  .openapi({ description: "Custom attributes defined for the tenant (GET /v1/available-attributes).", example: { costCenter: "CC-1001" } });

const ProvisioningSchema = z
  .object({
    status: z.enum(["pending", "completed", "failed"]),
    eventId: z.string().optional(),
    requestedAt: z.string().optional(),
    completedAt: z.string().nullable().optional(),
    errors: z.array(z.object({ kind: z.string(), id: z.string(), reason: z.string() })).optional(),
  })
  .openapi("Provisioning", { description: "Asynchronous side effects (memberships, audience rules) of the user's latest change." });

const MembershipRefSchema = z.object({ id: z.string(), name: z.string(), source: z.enum(["manual", "rule"]), since: z.string() });

const responseFields = shape<ResponseShape & { role: z.ZodNullable<z.ZodString> }>(
  (f) => (f.whenUnset === null ? z.string().nullable() : z.string()).openapi({ description: f.description }),
  () => z.string().nullable().openapi({ description: "Name of the user's role (GET /v1/roles)." }),
);

export const UserSchema = z
  .object({
    id: z.string().openapi({ example: "01938f5e-7c1a-7b3e-9f1e-2d7a1c9b0e11" }),
    ...responseFields,
    active: z.boolean(),
    status: z.enum(["active", "inactive", "invited", "invitation_expired"]).openapi({
      description: "`invited` until a bulk invitation is accepted (`invitation_expired` once it lapses); `inactive` when deactivated.",
    }),
    attributes: AttributesSchema,
    ...accountResponseFields,
    version: z.number().int().openapi({ description: "Increments on every change; the ETag is W/\"<version>\"." }),
    createdAt: z.string().openapi({ format: "date-time" }),
    updatedAt: z.string().openapi({ format: "date-time" }),
    provisioning: ProvisioningSchema.nullable().optional(),
    memberships: z
      .object(Object.fromEntries(KINDS.map((k) => [k.responseKey, z.array(MembershipRefSchema)])))
      .optional()
      .openapi({ description: "Current memberships (GET /v1/users/{id} only)." }),
  })
  .openapi("User");

const idList = (label: string) =>
  z
    .array(z.string().min(1).max(64), { error: `must be a list of ${label} ids` })
    .max(MAX_IDS_PER_KIND, `must list at most ${MAX_IDS_PER_KIND} ids`)
    .optional()
    .openapi({ description: `Ids of ${label}s the user belongs to (replaces the user's manually assigned ${label}s). Applied asynchronously: see \`provisioning\`.` });

/** Membership lists: part of the request, not of the user row; the consumer applies them. */
const membershipFields = {
  groups: idList("group"),
  campaigns: idList("campaign"),
  accessGroups: idList("access group"),
  organizationIds: idList("organization"),
  folders: idList("folder"),
};

const lifecycleFields = {
  active: z.boolean().optional(),
  attributes: AttributesSchema.nullable().optional(),
};

type ByNameInput = { role: ReturnType<typeof byNameInput> };

export const UserCreateSchema = z
  .strictObject({
    ...shape<CreateShape & ByNameInput>((f) => (f.alwaysRequired ? requiredStr(f) : optionalStr(f)), byNameInput),
    ...lifecycleFields,
    ...accountInputFields,
    ...membershipFields,
  })
  .openapi("UserCreate");

export const UserPatchSchema = z
  .strictObject({
    ...shape<PatchShape & ByNameInput>(optionalStr, byNameInput),
    ...lifecycleFields,
    ...accountInputFields,
    ...membershipFields,
  })
  .openapi("UserPatch", { description: "JSON merge patch: absent fields are kept, null clears an optional field." });

/**
 * `PUT /v1/users/{id}`: UserCreate plus the representation's read-only members
 * (users/fields.ts READ_ONLY_FIELDS), accepted and ignored so that a GET's body can be edited and
 * PUT back; `id`, when sent, must equal the path's (checked by the handler).
 */
export const UserReplaceSchema = UserCreateSchema.extend(
  Object.fromEntries(
    READ_ONLY_FIELDS.map((name) => [
      name,
      name === "id"
        ? z.string({ error: "must be a string" }).max(64).optional().openapi({ readOnly: true, description: "Optional; when sent it must equal the id in the path." })
        : z.unknown().optional().openapi({ readOnly: true, description: "Read-only: ignored when sent (a GET's body can be PUT back)." }),
    ]),
  ) as { id: z.ZodOptional<z.ZodString> } & { [K in Exclude<ReadOnlyField, "id">]: z.ZodOptional<z.ZodUnknown> },
).openapi("UserReplace", { description: "A full user: UserCreate's fields; the read-only members of User may be sent back and are ignored (except id, which must match)." });
