/**
 * Audience rules: SCIM filter expressions (RFC 7644 §3.4.2.2) over a user's REST attributes,
 * e.g. `department eq "Sales" and active eq true`. Custom attributes are addressed by their key
 * (`costCenter`) or as `attributes.costCenter`. Parsing and evaluation use scim2-parse-filter;
 * string comparisons ignore case, as SCIM's default (caseExact=false) prescribes.
 */
import { parse, Tester, type Filter } from "scim2-parse-filter";
import { ApiError } from "../http/errors";
import type { AttributeSet } from "../users/attributes";
import type { User } from "../users/model";

export const MAX_RULE_LENGTH = 2000;
const MAX_RULE_NODES = 100;

/** Attributes a rule may name besides the tenant's attribute definitions. */
const EXTRA_ATTRIBUTES = ["active", "id", "createdAt", "updatedAt"];

function invalidRule(message: string): ApiError {
  return new ApiError("invalid_rule", `rule: ${message}`, { errors: [{ path: "rule", message }] });
}

function attributeNames(f: Filter, out: string[], depth = 0): number {
  let nodes = 1;
  if (depth > 20) throw invalidRule("is nested too deeply (at most 20 levels)");
  switch (f.op) {
    case "and":
    case "or":
      for (const c of f.filters) nodes += attributeNames(c, out, depth + 1);
      return nodes;
    case "not":
      return nodes + attributeNames(f.filter, out, depth + 1);
    case "[]":
      throw invalidRule(`'${f.attrPath}[...]': value filters are not supported; user attributes are single-valued`);
    default:
      out.push(f.attrPath);
      return nodes;
  }
}

/** Parses and checks a rule against the tenant's attributes; throws 400 naming the problem. */
export function validateRule(rule: string, attrs: AttributeSet): Filter {
  if (rule.length > MAX_RULE_LENGTH) throw invalidRule(`must be at most ${MAX_RULE_LENGTH} characters`);
  let filter: Filter;
  try {
    filter = parse(rule);
  } catch (err) {
    const reason = err instanceof Error ? err.message : "unparseable";
    throw invalidRule(`is not a valid SCIM filter (${reason}); example: department eq "Sales" and active eq true`);
  }
  const names: string[] = [];
  if (attributeNames(filter, names) > MAX_RULE_NODES) throw invalidRule(`has more than ${MAX_RULE_NODES} terms`);
  const known = new Map<string, string>();
  for (const d of attrs.definitions) known.set(d.key.toLowerCase(), d.key);
  for (const extra of EXTRA_ATTRIBUTES) known.set(extra.toLowerCase(), extra);
  for (const name of names) {
    const bare = name.toLowerCase().startsWith("attributes.") ? name.slice("attributes.".length) : name;
    const def = attrs.get(bare) ?? attrs.definitions.find((d) => d.key.toLowerCase() === bare.toLowerCase());
    const isCustomPath = bare !== name;
    if (isCustomPath ? def !== undefined && !def.builtIn : known.has(name.toLowerCase())) continue;
    const custom = attrs.custom.map((d) => d.key);
    throw invalidRule(
      `'${name}' is not an attribute of this tenant's users; use a built-in attribute (${[...BUILTIN_HINT].join(", ")})` +
        (custom.length > 0 ? ` or a custom one (${custom.join(", ")})` : ""),
    );
  }
  return filter;
}

const BUILTIN_HINT = ["email", "department", "title", "userType", "active", "..."];

class CaseInsensitiveTester extends Tester {
  private static fold(v: any): any {
    return typeof v === "string" ? v.toLowerCase() : v;
  }
  override eq(r: any, v: any) {
    return super.eq(CaseInsensitiveTester.fold(r), CaseInsensitiveTester.fold(v));
  }
  override ne(r: any, v: any) {
    return super.ne(CaseInsensitiveTester.fold(r), CaseInsensitiveTester.fold(v));
  }
  override co(r: any, v: any) {
    return super.co(CaseInsensitiveTester.fold(r), CaseInsensitiveTester.fold(v));
  }
  override sw(r: any, v: any) {
    return r !== null && r !== undefined && super.sw(CaseInsensitiveTester.fold(r), CaseInsensitiveTester.fold(v));
  }
  override ew(r: any, v: any) {
    return r !== null && r !== undefined && super.ew(CaseInsensitiveTester.fold(r), CaseInsensitiveTester.fold(v));
  }
  // `pr` means present and not null/empty (RFC 7644), not merely a defined key.
  override pr(r: any) {
    return r !== undefined && r !== null && r !== "";
  }
}

const tester = new CaseInsensitiveTester();

/**
 * Built-in fields added after tenants could already define custom attributes of the same name
 * (the SCIM enterprise fields): a tenant's own custom attribute keeps the bare name in rules.
 */
const YIELDING_BUILT_INS = ["userName", "employeeNumber", "costCenter", "organization", "division"];

/** What a rule sees: the REST user, with custom attributes also at the top level. */
export function ruleSubject(user: User): Record<string, unknown> {
  const subject: Record<string, unknown> = { ...user.attributes, ...user };
  for (const key of YIELDING_BUILT_INS) if (key in user.attributes) subject[key] = user.attributes[key];
  return subject;
}

/** Evaluates a stored rule; a rule that no longer parses matches nobody rather than everybody. */
export function matchesRule(rule: string, subject: Record<string, unknown>): boolean {
  let filter: Filter;
  try {
    filter = parse(rule);
  } catch {
    return false;
  }
  return tester.test(subject, filter) === true;
}
