/**
 * REST schemas of the account fields, from their entries in users/fields.ts (ACCOUNT_FIELDS):
 * write-only ones only in requests, read-only ones only in responses. The password's length is
 * checked by the core's policy (users/password.ts) so that every adapter gives the same message;
 * here it is only bounded, and its schema never echoes the value.
 */
import { z } from "@hono/zod-openapi";
import { ACCOUNT_FIELDS, type AccountFieldSpec } from "../users/fields";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "../users/password";

const entries = Object.entries(ACCOUNT_FIELDS) as [keyof typeof ACCOUNT_FIELDS, AccountFieldSpec][];

function input(f: AccountFieldSpec): z.ZodType {
  const docs = { description: f.description };
  if (f.type === "password") {
    return z
      .string({ error: "must be a string" })
      .nullable()
      .optional()
      .openapi({ ...docs, format: "password", writeOnly: true, minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH });
  }
  return z.boolean({ error: "must be true or false" }).optional().openapi(f.access === "writeOnly" ? { ...docs, writeOnly: true } : docs);
}

function output(f: AccountFieldSpec): z.ZodType {
  const docs = { description: f.description, readOnly: f.access === "readOnly" };
  return f.type === "dateTime" ? z.string().nullable().openapi({ ...docs, format: "date-time" }) : z.boolean().openapi(docs);
}

export const accountInputFields = Object.fromEntries(entries.filter(([, f]) => f.access !== "readOnly").map(([name, f]) => [name, input(f)])) as {
  password: z.ZodOptional<z.ZodNullable<z.ZodString>>;
  resetPassword: z.ZodOptional<z.ZodBoolean>;
  doNotEmail: z.ZodOptional<z.ZodBoolean>;
};

export const accountResponseFields = Object.fromEntries(entries.filter(([, f]) => f.access !== "writeOnly").map(([name, f]) => [name, output(f)])) as {
  passwordResetRequired: z.ZodBoolean;
  hasPassword: z.ZodBoolean;
  doNotEmail: z.ZodBoolean;
  lastActivityAt: z.ZodNullable<z.ZodString>;
  lockedUntil: z.ZodNullable<z.ZodString>;
};
