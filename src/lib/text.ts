/**
 * The one rule for text a client sends: well-formed Unicode (no lone surrogates), no C0 control
 * characters except tab and line breaks, no DEL, and none of the characters XML 1.0 forbids
 * (U+FFFE, U+FFFF). Anything stored under this rule can be rendered as well-formed JSON and XML,
 * so one hostile value can never make a page of results unreadable for a strict client.
 *
 * Tab and line breaks are allowed by this rule (free-text custom attributes may hold them); fields
 * that must be a single line (every built-in user field) add `isSingleLine`.
 */

// C0 except \t \n \r, DEL, and the two XML-forbidden noncharacters of the BMP.
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]/;
const LINE_BREAK_OR_TAB = /[\t\n\r]/;
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `value` is not acceptable text, or null when it is. */
export function textProblem(value: string): string | null {
  if (LONE_SURROGATE.test(value)) return "is not valid Unicode (it holds a lone surrogate)";
  const bad = FORBIDDEN.exec(value);
  if (bad) return `holds the control character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}, which is not allowed`;
  return null;
}

export function isSingleLine(value: string): boolean {
  return !LINE_BREAK_OR_TAB.test(value);
}

/** How deep a request document may nest (JSON or XML); deeper documents are refused before use. */
export const MAX_DOCUMENT_DEPTH = 32;

/**
 * The first problem in a parsed document: a string or member name that breaks the text rule, or
 * nesting deeper than MAX_DOCUMENT_DEPTH. Iterative, so a hostile document cannot exhaust the stack.
 */
export function documentProblem(document: unknown): { path: string; message: string } | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: document, path: "", depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === "string") {
      const problem = textProblem(value);
      if (problem) return { path: path || "(body)", message: problem };
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (depth >= MAX_DOCUMENT_DEPTH) return { path: path || "(body)", message: `nests deeper than ${MAX_DOCUMENT_DEPTH} levels` };
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
    for (const [key, child] of entries) {
      const childPath = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (!Array.isArray(value)) {
        const problem = textProblem(key);
        if (problem) return { path: path || "(body)", message: `a member name ${problem}` };
      }
      stack.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  return null;
}
