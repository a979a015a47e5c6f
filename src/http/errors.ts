/**
 * The error catalogue: every error the service can answer with has a code here, and the code
 * fixes its HTTP status, its title and its SCIM `scimType`. Adapters render an ApiError as
 * problem+json (REST) or as a SCIM Error; nothing else builds error bodies.
 */

export interface FieldError {
  /** Path of the offending field in the one notation (fieldPath): "email", "attributes.costCenter", "users[2].email". */
  path: string;
  message: string;
}

/**
 * The one path notation of every error: dots between object members, brackets around array
 * indexes (`users[2].email`, `scopes[1]`, `members[0].value`). A string segment may itself be a
 * formatted path, so a prefix can be put before a path a deeper layer built (`users[2]` + `attributes.x`).
 */
export function fieldPath(segments: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else {
      const name = String(segment);
      out += out === "" || name.startsWith("[") ? name : `.${name}`;
    }
  }
  return out;
}

/**
 * The 400 for a list of field problems: `detail` names every field once (`3 fields are not valid:
 * email, title, attributes.costCenter`), `errors` says how to fix each.
 */
export function invalidFields(errors: FieldError[], code: ErrorCode = "validation_failed", hint?: string): ApiError {
  const paths = [...new Set(errors.map((e) => e.path))];
  const what = code === "invalid_query" ? "query parameter" : "field";
  const detail =
    errors.length === 1
      ? `${errors[0]!.path} ${errors[0]!.message}.`
      : `${paths.length} ${what}${paths.length === 1 ? "" : "s"} ${paths.length === 1 ? "is" : "are"} not valid: ${paths.join(", ")}. See errors for how to fix each.`;
  return new ApiError(code, hint ? `${detail} ${hint}` : detail, { errors });
}

interface CatalogueEntry {
  status: number;
  title: string;
  /** RFC 7644 §3.12 scimType, where one applies. */
  scimType?: string;
}

export const ERROR_CATALOGUE = {
  // 400
  invalid_json: { status: 400, title: "Malformed JSON body", scimType: "invalidSyntax" },
  invalid_xml: { status: 400, title: "Unacceptable XML body", scimType: "invalidSyntax" },
  validation_failed: { status: 400, title: "The request is not valid", scimType: "invalidValue" },
  invalid_query: { status: 400, title: "A query parameter is not valid", scimType: "invalidValue" },
  invalid_cursor: { status: 400, title: "The cursor is not valid", scimType: "invalidValue" },
  invalid_header: { status: 400, title: "A request header is not valid", scimType: "invalidValue" },
  unknown_attribute: { status: 400, title: "Unknown attribute", scimType: "invalidValue" },
  required_attribute: { status: 400, title: "A required attribute is missing", scimType: "invalidValue" },
  invalid_manager: { status: 400, title: "The manager is not a user of this tenant", scimType: "invalidValue" },
  invalid_rule: { status: 400, title: "The audience rule is not valid", scimType: "invalidFilter" },
  invalid_membership: { status: 400, title: "A membership cannot be applied", scimType: "invalidValue" },
  invalid_filter: { status: 400, title: "The filter is not valid", scimType: "invalidFilter" },
  invalid_path: { status: 400, title: "The PATCH path is not valid", scimType: "invalidPath" },
  no_target: { status: 400, title: "The PATCH path matches nothing", scimType: "noTarget" },
  mutability: { status: 400, title: "The attribute cannot be changed", scimType: "mutability" },
  invalid_syntax: { status: 400, title: "The request does not follow the SCIM message schema", scimType: "invalidSyntax" },
  too_many: { status: 400, title: "The request asks for too much at once", scimType: "tooMany" },
  // 401 / 403
  missing_token: { status: 401, title: "Authentication required" },
  malformed_token: { status: 401, title: "Malformed bearer token" },
  unknown_token: { status: 401, title: "Unknown API token" },
  disabled_token: { status: 401, title: "API token disabled" },
  expired_token: { status: 401, title: "API token expired" },
  wrong_tenant_token: { status: 401, title: "API token belongs to another tenant" },
  platform_token: { status: 401, title: "The platform admin token is not a tenant API token" },
  insufficient_scope: { status: 403, title: "The token lacks a required scope" },
  platform_disabled: { status: 403, title: "The platform API is disabled" },
  tenant_suspended: { status: 403, title: "Tenant suspended" },
  forbidden: { status: 403, title: "Forbidden" },
  // 404 / 405 / 409 / 410 / 412
  tenant_not_found: { status: 404, title: "No tenant at this host" },
  not_found: { status: 404, title: "Not found" },
  route_not_found: { status: 404, title: "No such endpoint" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflict", scimType: "uniqueness" },
  user_erased: { status: 410, title: "User erased" },
  cursor_expired: { status: 410, title: "The cursor has expired", scimType: "invalidValue" },
  event_already_processed: { status: 409, title: "The event was already processed" },
  precondition_failed: { status: 412, title: "Precondition failed" },
  locked: { status: 423, title: "Locked" },
  not_implemented: { status: 501, title: "Not implemented" },
  // 413 / 415 / 422 / 429
  payload_too_large: { status: 413, title: "Request body too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  idempotency_key_reused: { status: 422, title: "Idempotency-Key reused with a different request" },
  idempotency_key_in_use: { status: 409, title: "A request with this Idempotency-Key is in progress" },
  secret_not_replayed: { status: 409, title: "The first response held a secret, which is not stored for replay" },
  rate_limited: { status: 429, title: "Too many requests" },
  // 5xx
  internal: { status: 500, title: "Internal server error" },
  unavailable: { status: 503, title: "Service temporarily unavailable" },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly errors: FieldError[];
  /** Extra members for the problem body (e.g. the id of the existing user on a conflict). */
  readonly extra: Record<string, unknown>;
  /** Extra response headers (e.g. WWW-Authenticate, Allow, Retry-After). */
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    detail: string,
    options: {
      errors?: FieldError[];
      extra?: Record<string, unknown>;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(detail);
    this.name = "ApiError";
    this.code = code;
    const entry: CatalogueEntry = ERROR_CATALOGUE[code];
    this.status = entry.status;
    this.title = entry.title;
    this.errors = options.errors ?? [];
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }

  get scimType(): string | undefined {
    return (ERROR_CATALOGUE[this.code] as CatalogueEntry).scimType;
  }
}

export function problemType(code: ErrorCode): string {
  return `urn:problem-type:provisioning:${code.replaceAll("_", "-")}`;
}
