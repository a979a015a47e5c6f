/** @jsxImportSource hono/jsx */
/**
 * The create-user form: the tenant's required built-ins, a few common ones, and every custom
 * attribute, typed by its definition. Values go to the users core as-is (empty means "not sent"),
 * so the core's rules and messages decide what is valid.
 */
import type { AttributeView } from "../../users/attribute-admin";
import type { UserFields } from "../../users/model";
import { CsrfInput, Field, ProblemSummary, type FormProblem } from "../layout";

const COMMON_OPTIONAL = ["displayName", "department", "title"];

export function formFields(attributes: AttributeView[]) {
  const builtIns = attributes.filter((a) => a.builtIn && (a.required || COMMON_OPTIONAL.includes(a.key)));
  const custom = attributes.filter((a) => !a.builtIn);
  return { builtIns, custom };
}

/** Form values -> the core's input. Typed custom values follow their definition (number, boolean). */
export function userFieldsOf(form: Record<string, string | string[]>, attributes: AttributeView[]): UserFields {
  const fields: Record<string, unknown> = {};
  const custom: Record<string, unknown> = {};
  const { builtIns, custom: defs } = formFields(attributes);
  for (const a of builtIns) {
    const v = String(form[a.key] ?? "").trim();
    if (v !== "") fields[a.key] = v;
  }
  for (const a of defs) {
    const v = String(form[`attributes.${a.key}`] ?? "").trim();
    if (v === "") continue;
    custom[a.key] = a.type === "number" && v !== "" && !Number.isNaN(Number(v)) ? Number(v) : a.type === "boolean" ? v === "true" : v;
  }
  if (Object.keys(custom).length > 0) fields.attributes = custom;
  return fields as UserFields;
}

const inputType = (a: AttributeView) => (a.type === "email" ? "email" : a.type === "date" ? "date" : a.type === "number" ? "text" : "text");

export function UserCreateForm(props: { csrf?: string; attributes: AttributeView[]; values: Record<string, string | string[]>; problem?: FormProblem }) {
  const { builtIns, custom } = formFields(props.attributes);
  const value = (name: string) => String(props.values[name] ?? "");
  return (
    <form method="post" action="/console/users" class="stack" novalidate>
      <ProblemSummary problem={props.problem} />
      <CsrfInput csrf={props.csrf} />
      {builtIns.map((a) => (
        <Field name={a.key} label={a.label} type={inputType(a)} value={value(a.key)} required={a.required} error={props.problem?.fields[a.key]} />
      ))}
      {custom.length > 0 && (
        <fieldset>
          <legend>Custom attributes</legend>
          {custom.map((a) => (
            <Field
              name={`attributes.${a.key}`}
              label={a.label}
              type={inputType(a)}
              value={value(`attributes.${a.key}`)}
              required={a.required}
              hint={a.type === "enum" ? undefined : `Type: ${a.type}${a.description ? `. ${a.description}` : ""}`}
              options={a.type === "enum" ? (a.enumValues ?? []) : a.type === "boolean" ? ["true", "false"] : undefined}
              error={props.problem?.fields[`attributes.${a.key}`]}
            />
          ))}
        </fieldset>
      )}
      <div>
        <button type="submit">Create user</button>
      </div>
    </form>
  );
}
