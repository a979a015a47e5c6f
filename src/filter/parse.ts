/**
 * SCIM filter parsing (RFC 7644 §3.4.2.2) on top of the maintained `scim2-parse-filter` package.
 * We use its tokenizer and recursive-descent parser and add three things around them:
 *
 * - bounds: the filter's length and the depth of the resulting tree;
 * - Entra's non-RFC `emails[type eq "work"].value eq "x"`: the package turns it into
 *   `emails[type eq "work"] and emails.value eq "x"`, which loses the "same element" binding, so the
 *   tokens are rewritten first into the RFC form `emails[(type eq "work") and value eq "x"]`;
 * - unquoted string values (`externalId eq jyoung`, in Entra's and Microsoft's examples), which
 *   the package rejects, are quoted.
 *
 * Every failure is a 400 `invalidFilter` that says what is wrong.
 */
import type { Filter } from "scim2-parse-filter";
import { parseFilter as parseTokens, tokenizer, Tokens, type Token } from "scim2-parse-filter/lib/src/parser";
import { ApiError } from "../http/errors";

export type { Filter } from "scim2-parse-filter";

export interface FilterLimits {
  /** Characters. */
  maxLength: number;
  /** Nesting of and/or/not/[] nodes. */
  maxDepth: number;
}

export const DEFAULT_FILTER_LIMITS: FilterLimits = { maxLength: 1000, maxDepth: 12 };

const COMPARE_OPS = new Set(["eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le"]);

/** A 400 invalidFilter; `position` (0-based character offset) points at the offending token. */
export function invalidFilter(detail: string, position?: number): ApiError {
  return new ApiError("invalid_filter", detail, {
    errors: [{ path: "filter", message: detail }],
    ...(position === undefined ? {} : { extra: { position } }),
  });
}

/**
 * Character offsets of tokens in the original text. The tokens may have been rewritten (bare values
 * quoted, brackets restructured): a token found at or after the cursor, as is or without added
 * quotes, takes that offset; a synthetic one takes the cursor's.
 */
function tokenOffsets(text: string, tokens: Token[]): number[] {
  const offsets: number[] = [];
  let cursor = 0;
  for (const token of tokens) {
    const candidates = [token.literal, token.literal.replace(/^"(.*)"$/s, "$1")];
    let at = -1;
    for (const literal of candidates) {
      if (!literal) continue;
      const found = text.indexOf(literal, cursor);
      // Only accept a match separated from the cursor by white space or brackets (no skipped words).
      if (found !== -1 && /^[\s()[\]]*$/.test(text.slice(cursor, found))) {
        at = found;
        cursor = found + literal.length;
        break;
      }
    }
    offsets.push(at === -1 ? cursor : at);
  }
  return offsets;
}

function isJsonLiteral(literal: string): boolean {
  try {
    const v: unknown = JSON.parse(literal);
    return v === null || ["string", "number", "boolean"].includes(typeof v);
  } catch {
    return false;
  }
}

/** Quotes bare values and rewrites `attr[f].sub op v` into `attr[(f) and sub op v]`. */
export function rewriteTokens(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const prev = out[out.length - 1];
    if (t.type === "Word" && prev?.type === "Word" && COMPARE_OPS.has(prev.literal.toLowerCase()) && !isJsonLiteral(t.literal)) {
      // A bare value after a comparison operator.
      out.push({ type: "Quoted", literal: JSON.stringify(t.literal) });
      continue;
    }
    if (t.type === "Bracket" && t.literal === "]." && tokens[i + 1]?.type === "Word") {
      let open = -1;
      for (let j = out.length - 1; j >= 0; j--) {
        if (out[j]!.type === "Bracket" && out[j]!.literal === "[") {
          open = j;
          break;
        }
      }
      if (open < 0) throw invalidFilter("The filter has ']' without a matching '['.");
      out.splice(open + 1, 0, { type: "Bracket", literal: "(" });
      out.push({ type: "Bracket", literal: ")" }, { type: "Word", literal: "and" });
      const sub = tokens[i + 1]!;
      const op = tokens[i + 2];
      out.push(sub);
      if (!op || op.type !== "Word") throw invalidFilter(`Expected an operator after '${sub.literal}'.`);
      out.push(op);
      let consumed = 2;
      if (COMPARE_OPS.has(op.literal.toLowerCase())) {
        const value = tokens[i + 3];
        if (!value || value.type === "EOT") throw invalidFilter(`Expected a value after '${sub.literal} ${op.literal}'.`);
        out.push(value.type === "Word" && !isJsonLiteral(value.literal) ? { type: "Quoted", literal: JSON.stringify(value.literal) } : value);
        consumed = 3;
      }
      out.push({ type: "Bracket", literal: "]" });
      i += consumed;
      continue;
    }
    out.push(t);
  }
  return out;
}

function depthOf(f: Filter): number {
  switch (f.op) {
    case "and":
    case "or":
      return 1 + Math.max(0, ...f.filters.map(depthOf));
    case "not":
      return 1 + depthOf(f.filter);
    case "[]":
      return 1 + depthOf(f.valFilter);
    default:
      return 1;
  }
}

/** The deepest nesting of ( and [ in the token stream (quoted strings are single tokens). */
function bracketNesting(tokens: Token[]): number {
  let depth = 0;
  let max = 0;
  for (const t of tokens) {
    if (t.type !== "Bracket") continue;
    if (t.literal === "(" || t.literal === "[") max = Math.max(max, ++depth);
    else depth = Math.max(0, depth - 1);
  }
  return max;
}

export function parseScimFilter(text: string, limits: FilterLimits = DEFAULT_FILTER_LIMITS): Filter {
  if (text.length > limits.maxLength) {
    throw invalidFilter(`The filter is ${text.length} characters long; the limit is ${limits.maxLength}. Split the query.`);
  }
  if (text.trim() === "") throw invalidFilter("The filter is empty; omit the parameter to list everything.");
  let ast: Filter;
  let tokens: Token[] = [];
  let list: Tokens | undefined;
  try {
    tokens = rewriteTokens(tokenizer(text));
    // Redundant parentheses add no depth to the tree but do to the (recursive) parser: bound them first.
    const nesting = bracketNesting(tokens);
    if (nesting > limits.maxDepth) throw invalidFilter(`The filter nests parentheses ${nesting} levels deep; the limit is ${limits.maxDepth}.`);
    list = new Tokens(tokens);
    ast = parseTokens(list);
    if (list.peek().type !== "EOT") throw new Error(`unexpected '${list.peek().literal}' after the end of the expression`);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const reason = err instanceof Error ? err.message : "unparseable";
    let index = list ? Math.min(list.i, tokens.length) : tokens.length;
    // "Unexpected token a b as valFilter": `b` is an unknown operator; point at it.
    const operator = /Unexpected token \S+ (\S+) as valFilter/.exec(reason)?.[1];
    // Otherwise the parser has often consumed the token it complains about: find it a few tokens back.
    const named = operator ?? /Unexpected token \[?([^\s\]]+)\]? /.exec(reason)?.[1];
    for (let j = Math.min(index, tokens.length - 1); named && j >= Math.max(0, index - 3); j--) {
      if (tokens[j]!.literal === named) {
        index = j;
        break;
      }
    }
    const position = index < tokens.length ? tokenOffsets(text, tokens)[index]! : text.length;
    const near = text.slice(position, position + 20);
    throw invalidFilter(
      `The filter is not valid SCIM filter syntax (RFC 7644 §3.4.2.2) at position ${position}` +
        `${near ? ` (near '${near}')` : " (at the end)"}: ${reason}. Example: userName eq "jane@example.com".`,
      position,
    );
  }
  const depth = depthOf(ast);
  if (depth > limits.maxDepth) {
    throw invalidFilter(`The filter nests ${depth} levels deep; the limit is ${limits.maxDepth}.`);
  }
  return ast;
}
