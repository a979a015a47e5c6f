/** Turns zod failures into catalogue errors that name each field and say how to fix it. */
/* eslint-disable @typescript-eslint/no-explicit-any -- the hook is shared by every route */
import type { Hook } from "@hono/zod-openapi";
import type { z } from "zod";
import type { AppEnv } from "../env";
import { ApiError, type FieldError } from "./errors";

export function issuesToFieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of issues) {
    const base = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        errors.push({ path: base ? `${base}.${key}` : key, message: "is not a recognised field; check its spelling against the API reference at /docs" });
      }
      continue;
    }
    errors.push({ path: base || "(body)", message: issue.message });
  }
  return errors;
}

export const validationHook: Hook<any, AppEnv, any, any> = (result) => {
  if (result.success) return;
  const errors = issuesToFieldErrors(result.error.issues);
  const inQuery = result.target === "query" || result.target === "param" || result.target === "header";
  const detail = errors.map((e) => `${e.path}: ${e.message}`).join("; ");
  throw new ApiError(inQuery ? "invalid_query" : "validation_failed", detail, { errors });
};

/** Validates a value against a schema outside zod-openapi's validators (e.g. several media types). */
export function validateWith<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = issuesToFieldErrors(result.error.issues);
  throw new ApiError("validation_failed", errors.map((e) => `${e.path}: ${e.message}`).join("; "), { errors });
}
