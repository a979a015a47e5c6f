/**
 * Why a request's credentials were refused, told precisely: an integrator who pasted a token with
 * one wrong character must learn that the checksum failed, not that the token has the wrong form.
 *
 * Every refusal carries a `reason` member in its body (stable, for programs) next to its catalogue
 * code, a `detail` that says how to fix it, and a WWW-Authenticate challenge whose
 * error_description is a fixed, short ASCII phrase: the header never echoes what the client sent.
 * No message repeats any part of the secret either, since error bodies end up in logs.
 */
import { ApiError, type ErrorCode } from "../http/errors";
import { TOKEN_LENGTH, TOKEN_PREFIX, type TokenProblem } from "./tokens";

export type AuthFailure =
  | { reason: "missing_header" }
  | { reason: "not_bearer"; scheme?: string }
  | { reason: "bare_token" }
  | { reason: "empty_token" }
  | { reason: "several_words"; words: number }
  | TokenProblem
  | { reason: "platform_token" }
  | { reason: "unknown" }
  | { reason: "other_tenant" }
  | { reason: "disabled" }
  | { reason: "expired"; at: number };

export type AuthReason = AuthFailure["reason"];

/** What the Authorization header holds: nothing, a bearer value, or why it is not one. */
export type BearerParse = { kind: "token"; value: string } | { kind: "failure"; failure: AuthFailure };

/** Scheme names safe to repeat back (a value in the scheme's place may be a secret sent bare). */
const KNOWN_SCHEMES = new Set(["basic", "digest", "token", "negotiate", "ntlm", "hoba", "mutual", "apikey", "api-key", "ssws", "aws4-hmac-sha256", "dpop", "mac", "oauth"]);

export function parseAuthorization(header: string | undefined): BearerParse {
  const value = header?.trim() ?? "";
  if (value === "") return { kind: "failure", failure: { reason: "missing_header" } };
  const words = value.split(/\s+/);
  const scheme = words[0]!;
  if (scheme.toLowerCase() !== "bearer") {
    if (words.length === 1 && scheme.startsWith(TOKEN_PREFIX)) return { kind: "failure", failure: { reason: "bare_token" } };
    return { kind: "failure", failure: { reason: "not_bearer", scheme: KNOWN_SCHEMES.has(scheme.toLowerCase()) ? scheme : undefined } };
  }
  if (words.length === 1) return { kind: "failure", failure: { reason: "empty_token" } };
  if (words.length > 2) return { kind: "failure", failure: { reason: "several_words", words: words.length - 1 } };
  return { kind: "token", value: words[1]! };
}

const FORM = `API tokens are ${TOKEN_PREFIX} followed by ${TOKEN_LENGTH - TOKEN_PREFIX.length} letters and digits`;

export interface Told {
  code: ErrorCode;
  /** The challenge's error_description: fixed ASCII, no quotes or backslashes. */
  short: string;
  detail: string;
}

/** The code, the challenge phrase and the detail for `f`; the console's token sign-in uses them too. */
export function tell(f: AuthFailure): Told {
  switch (f.reason) {
    case "missing_header":
      return { code: "missing_token", short: "", detail: "Send an API token as 'Authorization: Bearer <token>'." };
    case "not_bearer":
      return {
        code: "malformed_token",
        short: "Authorization scheme is not Bearer",
        detail: `The Authorization header ${f.scheme ? `uses the '${f.scheme}' scheme` : "does not start with 'Bearer '"}; send 'Authorization: Bearer <token>'.`,
      };
    case "bare_token":
      return { code: "malformed_token", short: "Bearer scheme missing", detail: "The Authorization header holds a token without the scheme; send 'Authorization: Bearer <token>'." };
    case "empty_token":
      return { code: "malformed_token", short: "Bearer token is empty", detail: "The Authorization header says 'Bearer' but no token follows; send 'Authorization: Bearer <token>'." };
    case "several_words":
      return {
        code: "malformed_token",
        short: "Bearer token contains spaces",
        detail: `The Authorization header has ${f.words} words after 'Bearer'; the token is one word without spaces (send 'Bearer' once).`,
      };
    case "wrong_prefix":
      return { code: "malformed_token", short: "Token does not start with prov_", detail: `The bearer token does not start with '${TOKEN_PREFIX}', so it is not an API token of this service: ${FORM}.` };
    case "invalid_characters":
      return {
        code: "malformed_token",
        short: "Token contains a character that is not a letter or digit",
        detail: `The bearer token has a character that is not a letter or digit at position ${f.position}: ${FORM}. Copy the token again, without quotes or punctuation.`,
      };
    case "wrong_length":
      return {
        code: "malformed_token",
        short: `Token length is not ${TOKEN_LENGTH}`,
        detail: `The bearer token is ${f.length} characters long; ${FORM} (${TOKEN_LENGTH} in all). Characters were ${f.length < TOKEN_LENGTH ? "lost" : "added"} in copying: copy the token again.`,
      };
    case "checksum_mismatch":
      return {
        code: "malformed_token",
        short: "Token checksum does not match",
        detail: "The bearer token has the right form but its checksum does not match: a character was mistyped or lost. Copy the token again.",
      };
    case "platform_token":
      return {
        code: "platform_token",
        short: "Platform admin token used on a tenant host",
        detail: "This is the platform admin token; it works on the apex host's /platform API only. Use a tenant API token (prov_...) here.",
      };
    case "unknown":
      return { code: "unknown_token", short: "Unknown token", detail: "This API token does not exist here: it may be from another environment or from a local database that was reset. Ask a tenant admin for a new one." };
    case "other_tenant":
      return { code: "wrong_tenant_token", short: "Token belongs to another tenant", detail: "This API token belongs to another tenant; use it on that tenant's host." };
    case "disabled":
      return { code: "disabled_token", short: "Token disabled", detail: "This API token has been disabled by an admin." };
    case "expired":
      return { code: "expired_token", short: "Token expired", detail: `This API token expired at ${new Date(f.at).toISOString()}.` };
  }
}

/** The 401 for `failure`, in `realm`. */
export function authError(failure: AuthFailure, realm = "api"): ApiError {
  const told = tell(failure);
  const challenge = told.short ? `Bearer realm="${realm}", error="invalid_token", error_description="${told.short}"` : `Bearer realm="${realm}"`;
  return new ApiError(told.code, told.detail, { extra: { reason: failure.reason }, headers: { "WWW-Authenticate": challenge } });
}
