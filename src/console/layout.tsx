/** @jsxImportSource hono/jsx */
/**
 * The console's page frame and form building blocks. Every form posts to the server and every
 * error comes back as the API's own message, next to the field it names.
 */
import type { Child } from "hono/jsx";
import { ApiError } from "../http/errors";
import { SCRIPT_PATH, STYLESHEET_PATH } from "./assets";

export interface PageContext {
  tenantName: string;
  path: string;
  /** Absent when signed out (sign-in pages). */
  csrf?: string;
}

const NAV: Array<[string, string]> = [
  ["/console/users", "Users"],
  ["/console/tokens", "API tokens"],
  ["/console/attributes", "Attributes"],
  ["/console/roles", "Roles"],
  ["/console/identity-providers", "Identity providers"],
  ["/console/collections", "Collections"],
  ["/console/events", "Events"],
  ["/console/connect", "Connect an identity provider"],
  ["/console/rate-limits", "Rate limits"],
];

export function Layout(props: { page: PageContext; title: string; children?: Child }) {
  const { page } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · ${page.tenantName} console`}</title>
        <link rel="stylesheet" href={STYLESHEET_PATH} />
        <script src={SCRIPT_PATH} defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <span class="brand">{page.tenantName} · admin console</span>
          {page.csrf && (
            <form method="post" action="/console/sign-out">
              <CsrfInput csrf={page.csrf} />
              <button type="submit">Sign out</button>
            </form>
          )}
        </header>
        {page.csrf && (
          <nav class="main" aria-label="Console sections">
            <ul>
              {NAV.map(([href, label]) => (
                <li>
                  <a href={href} aria-current={page.path === href || page.path.startsWith(`${href}/`) ? "page" : undefined}>
                    {label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <main id="main" tabindex={-1}>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}

export function CsrfInput(props: { csrf?: string }) {
  return <input type="hidden" name="_csrf" value={props.csrf ?? ""} />;
}

/** A one-button form (deactivate, disable, replay...). */
export function PostButton(props: { action: string; csrf?: string; label: string; variant?: "danger" | "secondary"; name?: string; value?: string }) {
  return (
    <form method="post" action={props.action} class="inline">
      <CsrfInput csrf={props.csrf} />
      {props.name && <input type="hidden" name={props.name} value={props.value ?? ""} />}
      <button type="submit" class={props.variant}>
        {props.label}
      </button>
    </form>
  );
}

/** What a refused action tells the form: the API's message, and per-field messages by path. */
export interface FormProblem {
  message: string;
  fields: Record<string, string>;
}

/** Turns a client error from the core into a FormProblem; anything else (5xx) propagates. */
export function formProblemOf(err: unknown): FormProblem {
  if (!(err instanceof ApiError) || err.status >= 500) throw err;
  const fields: Record<string, string> = {};
  for (const e of err.errors) fields[e.path] ??= e.message;
  return { message: err.message, fields };
}

export function ProblemSummary(props: { problem?: FormProblem }) {
  if (!props.problem) return null;
  return (
    <div class="notice error-box" role="alert">
      <p class="error">{props.problem.message}</p>
    </div>
  );
}

export function Notice(props: { children?: Child; kind?: "ok" }) {
  return (
    <div class={`notice ${props.kind ?? ""}`} role="status">
      {props.children}
    </div>
  );
}

const idOf = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, "-")}`;

/** A labelled input whose error (the API's message for this path) is announced with it. */
export function Field(props: {
  name: string;
  label: string;
  value?: string;
  type?: string;
  error?: string;
  hint?: string;
  required?: boolean;
  autocomplete?: string;
  options?: string[];
}) {
  const id = idOf(props.name);
  const described = [props.hint ? `${id}-hint` : "", props.error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  const common = { id, name: props.name, "aria-describedby": described, "aria-invalid": props.error ? "true" : undefined, required: props.required };
  return (
    <div class="field">
      <label for={id}>
        {props.label}
        {props.required ? " (required)" : ""}
      </label>
      {props.hint && (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.options ? (
        <select {...common}>
          <option value="">—</option>
          {props.options.map((o) => (
            <option value={o} selected={o === props.value}>
              {o}
            </option>
          ))}
        </select>
      ) : (
        <input {...common} type={props.type ?? "text"} value={props.value ?? ""} autocomplete={props.autocomplete} />
      )}
      {props.error && (
        <p class="error" id={`${id}-error`}>
          {props.error}
        </p>
      )}
    </div>
  );
}

/** A table that scrolls sideways on a narrow screen instead of widening the page; focusable so a keyboard can scroll it. */
export function TableWrap(props: { label: string; children?: Child }) {
  return (
    <div class="table-wrap" role="region" aria-label={props.label} tabindex={0}>
      <table>{props.children}</table>
    </div>
  );
}

/** A secret shown once, selectable without script; the copy button appears when script runs. */
export function SecretBox(props: { id: string; label: string; value: string }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <div class="secret">
        <input id={props.id} type="text" readonly value={props.value} autocomplete="off" spellcheck={false} />
        <button type="button" class="secondary" data-copy={props.id} hidden>
          Copy
        </button>
      </div>
      <p class="hint" id={`${props.id}-status`} role="status"></p>
    </div>
  );
}

export const dateTime = (iso: string | null) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$/, " UTC") : "—");
