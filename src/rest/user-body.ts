/**
 * The request bodies of the user writes (POST /v1/users, PATCH and PUT /v1/users/{id}). When a body
 * fails its schema, the users core still judges the valid rest, through the write's own path and so
 * in the write's one read batch, and one 400 lists every problem: the schema's (a missing email, a
 * title too long) and the core's (a required custom attribute, an unknown role). Nothing is written.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- a hook shared by routes of different inputs */
import type { Hook, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { invalidFields, type FieldError } from "../http/errors";
import { issuesToFieldErrors, validationHook, validPart } from "../http/validation";

/** Runs the core on the valid part of a body with `schemaErrors`; the core always answers 400. */
export type RejectWithCore<T> = (c: Context<AppEnv>, valid: Partial<T>, schemaErrors: FieldError[]) => Promise<unknown>;

export function userBodyHook<S extends z.ZodObject>(schema: S, reject: RejectWithCore<z.output<S>>): Hook<any, AppEnv, any, any> {
  return async (result, c) => {
    if (result.target !== "json" || result.success) return validationHook(result, c);
    const schemaErrors = issuesToFieldErrors(result.error.issues);
    // zod-validator hands the hook the value it judged, though the type does not say so.
    const valid = validPart(schema, (result as { data?: unknown }).data, result.error.issues);
    if (valid) await reject(c, valid, schemaErrors);
    // Reached when nothing could be salvaged (the body is not an object); the core never returns.
    throw invalidFields(schemaErrors);
  };
}
