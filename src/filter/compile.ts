/**
 * Compiles a parsed SCIM filter into a parameterised Drizzle SQL condition over one table.
 *
 * The attribute map is a parameter: SCIM passes its names (userName, emails.value, urn:...:manager),
 * the REST API can pass its own (email, firstName). Every literal becomes a bound parameter, never
 * SQL text, and the number of parameters is capped below D1's 100 per statement.
 *
 * Case-insensitive comparisons use the map's `lowerExpr` (an indexed lower-cased column or
 * expression) with the literal lower-cased in JS, so `userName eq "X"` is an index lookup.
 * The attribute map's types are in ./attributes.ts.
 */
import { and, not, or, sql, type SQL } from "drizzle-orm";
import { DEFAULT_COMPILE_OPTIONS, type AttrDef, type AttributeMap, type CompileOptions, type ComplexAttr, type ConstAttr, type ScalarAttr } from "./attributes";
import { invalidFilter, type Filter } from "./parse";

const TRUE = sql`1`;
const FALSE = sql`0`;
/** Highest code point: every string starting with p sorts below p + this. */
const MAX_CHAR = "\u{10FFFF}";

interface Resolved {
  def: AttrDef;
  /** Sub-attribute name when the path was attr.sub. */
  sub?: string;
  display: string;
  /** When the path was attr.sub of a complex attribute: whether its element exists. */
  presence?: SQL;
}

function lowerKeys<T>(record: Record<string, T>): Map<string, [string, T]> {
  return new Map(Object.entries(record).map(([k, v]) => [k.toLowerCase(), [k, v] as [string, T]]));
}

export class FilterCompiler {
  private params = 0;
  private readonly schemas: { urn: string; attrs: Map<string, [string, AttrDef]> }[];

  constructor(
    private readonly map: AttributeMap,
    private readonly options: CompileOptions = DEFAULT_COMPILE_OPTIONS,
  ) {
    this.schemas = map.schemas.map((s) => ({ urn: s.urn.toLowerCase(), attrs: lowerKeys(s.attributes) }));
  }

  /** Resolves `[urn:]attr[.sub]` case-insensitively against the map. */
  resolve(path: string): Resolved {
    const lower = path.toLowerCase();
    let rest = lower;
    let candidates = this.schemas;
    if (lower.startsWith("urn:")) {
      const schema = this.schemas.filter((s) => lower.startsWith(`${s.urn}:`)).sort((a, b) => b.urn.length - a.urn.length)[0];
      if (!schema) throw invalidFilter(`'${path}' names a schema this endpoint does not have.`);
      rest = lower.slice(schema.urn.length + 1);
      candidates = [schema];
    }
    const [attrName, subName, extra] = rest.split(".");
    if (extra !== undefined || !attrName) throw invalidFilter(`'${path}' is not an attribute path (attribute or attribute.subAttribute).`);
    let found: [string, AttrDef] | undefined;
    for (const schema of candidates) {
      found = schema.attrs.get(attrName);
      if (found) break;
    }
    if (!found) throw invalidFilter(`'${path}' is not a filterable attribute here. Filterable: ${this.filterableNames().join(", ")}.`);
    const [name, def] = found;
    if (subName === undefined) return { def, display: name };
    if (def.kind !== "complex") throw invalidFilter(`'${name}' has no sub-attributes; use '${name}' alone.`);
    const sub = lowerKeys(def.sub).get(subName);
    if (!sub) throw invalidFilter(`'${name}' has no sub-attribute '${subName}'. It has: ${Object.keys(def.sub).join(", ")}.`);
    return { def: sub[1], sub: sub[0], display: `${name}.${sub[0]}`, presence: def.presence };
  }

  filterableNames(): string[] {
    const names: string[] = [];
    for (const s of this.map.schemas) {
      for (const [name, def] of Object.entries(s.attributes)) {
        if (def.kind === "complex") for (const sub of Object.keys(def.sub)) names.push(`${name}.${sub}`);
        else names.push(name);
      }
    }
    return names;
  }

  private param<T>(value: T): T {
    this.params += 1;
    if (this.params > this.options.maxParams) {
      throw invalidFilter(`The filter has more than ${this.options.maxParams} values; split it into several queries.`);
    }
    return value;
  }

  compile(filter: Filter): SQL {
    return this.node(filter, null);
  }

  private node(f: Filter, scope: { def: ComplexAttr; name: string } | null): SQL {
    switch (f.op) {
      case "and":
        return and(...f.filters.map((x) => this.node(x, scope)))!;
      case "or":
        return or(...f.filters.map((x) => this.node(x, scope)))!;
      case "not":
        // NULL-safe: `not (title eq "x")` must match users without a title.
        return not(sql`coalesce((${this.node(f.filter, scope)}), 0)`);
      case "[]": {
        if (scope) throw invalidFilter("A [...] filter cannot contain another [...] filter.");
        const r = this.resolve(f.attrPath);
        if (r.def.kind !== "complex" || r.sub) throw invalidFilter(`'${f.attrPath}[...]' needs a complex attribute such as emails.`);
        return and(r.def.presence, this.node(f.valFilter, { def: r.def, name: r.display }))!;
      }
      case "pr":
        return this.present(this.target(f.attrPath, scope));
      default:
        return this.compare(f.op, this.target(f.attrPath, scope), f.compValue);
    }
  }

  /** Resolves a path inside `[...]` against the complex attribute, else globally. */
  private target(path: string, scope: { def: ComplexAttr; name: string } | null): Resolved {
    if (scope) {
      const sub = lowerKeys(scope.def.sub).get(path.toLowerCase());
      if (!sub) throw invalidFilter(`'${scope.name}' has no sub-attribute '${path}'. It has: ${Object.keys(scope.def.sub).join(", ")}.`);
      return { def: sub[1], display: `${scope.name}.${sub[0]}` };
    }
    const r = this.resolve(path);
    if (r.def.kind === "complex") {
      if (!r.def.defaultSub) return r;
      const sub = r.def.sub[r.def.defaultSub]!;
      return { def: sub, display: `${r.display}.${r.def.defaultSub}`, presence: r.def.presence };
    }
    return r;
  }

  private present(t: Resolved): SQL {
    const { def } = t;
    if (def.kind === "complex") return def.presence;
    if (def.kind === "const") return t.presence ?? TRUE;
    const cond = def.type === "string" || def.type === "reference" ? sql`(${def.expr} IS NOT NULL AND ${def.expr} <> '')` : sql`${def.expr} IS NOT NULL`;
    return t.presence ? and(t.presence, cond)! : cond;
  }

  private compare(op: string, t: Resolved, raw: string | number | boolean | null): SQL {
    const { def } = t;
    if (def.kind === "complex") {
      throw invalidFilter(`'${t.display}' is complex; compare one of its sub-attributes (${Object.keys(def.sub).map((s) => `${t.display}.${s}`).join(", ")}).`);
    }
    if (raw === null) {
      if (op !== "eq" && op !== "ne") throw invalidFilter(`'${t.display} ${op} null' is not meaningful; use 'pr' or 'eq null'.`);
      const absent = not(this.present(t));
      return op === "eq" ? absent : not(absent);
    }
    const value = this.coerce(def, raw, t.display, op);
    if (def.kind === "const") {
      const match = evaluateConst(op, def, value);
      return t.presence ? and(t.presence, match ? TRUE : FALSE)! : match ? TRUE : FALSE;
    }
    const cond = this.compareScalar(op, def, value, t.display);
    return t.presence ? and(t.presence, cond)! : cond;
  }

  private coerce(def: ScalarAttr | ConstAttr, raw: string | number | boolean, display: string, op: string): string | number | boolean {
    const ordered = def.kind === "scalar" ? (def.ordered ?? def.type !== "boolean") : def.type !== "boolean";
    if (["gt", "ge", "lt", "le"].includes(op) && !ordered) throw invalidFilter(`'${op}' cannot compare '${display}' (type ${def.type}).`);
    if (["co", "sw", "ew"].includes(op) && !["string", "reference"].includes(def.type)) {
      throw invalidFilter(`'${op}' needs a string attribute; '${display}' is ${def.type}.`);
    }
    switch (def.type) {
      case "boolean":
        if (typeof raw === "boolean") return raw;
        // Entra writes booleans as "True"/"False".
        if (typeof raw === "string" && /^(true|false)$/i.test(raw)) return raw.toLowerCase() === "true";
        throw invalidFilter(`'${display}' is a boolean; compare it with true or false.`);
      case "integer":
      case "decimal":
        if (typeof raw === "number") return raw;
        throw invalidFilter(`'${display}' is a number; compare it with a number.`);
      case "dateTime": {
        if (typeof raw !== "string" || Number.isNaN(Date.parse(raw))) {
          throw invalidFilter(`'${display}' is a date-time; compare it with an ISO 8601 string such as "2024-05-13T04:42:34Z".`);
        }
        const stored = def.kind === "scalar" && def.toStored ? def.toStored(raw) : raw;
        if (stored === undefined) throw invalidFilter(`'${raw}' is not a valid value for '${display}'.`);
        return stored;
      }
      default: {
        if (typeof raw !== "string") throw invalidFilter(`'${display}' is a string; put the value in double quotes.`);
        if (def.kind === "scalar" && def.toStored) {
          const stored = def.toStored(raw);
          if (stored === undefined) throw invalidFilter(`'${raw}' is not a valid value for '${display}'.`);
          return stored;
        }
        return raw;
      }
    }
  }

  private compareScalar(op: string, def: ScalarAttr, value: string | number | boolean, display: string): SQL {
    const insensitive = typeof value === "string" && !def.caseExact;
    const x = insensitive ? (def.lowerExpr ?? sql`lower(${def.expr})`) : def.expr;
    // Booleans are stored as 0/1 (SQLite has no boolean type).
    const v = insensitive ? (value as string).toLowerCase() : typeof value === "boolean" ? (value ? 1 : 0) : value;
    switch (op) {
      case "eq":
        return sql`${x} = ${this.param(v)}`;
      case "ne":
        return sql`(${x} IS NULL OR ${x} <> ${this.param(v)})`;
      case "gt":
        return sql`${x} > ${this.param(v)}`;
      case "ge":
        return sql`${x} >= ${this.param(v)}`;
      case "lt":
        return sql`${x} < ${this.param(v)}`;
      case "le":
        return sql`${x} <= ${this.param(v)}`;
      case "sw": {
        const s = v as string;
        if (s === "") return sql`${x} IS NOT NULL`;
        // A range, not LIKE: indexable, and free of LIKE's 50-byte pattern cap on D1.
        return sql`(${x} >= ${this.param(s)} AND ${x} < ${this.param(s + MAX_CHAR)})`;
      }
      case "ew": {
        const s = v as string;
        if (s === "") return sql`${x} IS NOT NULL`;
        return sql`substr(${x}, ${this.param(-[...s].length)}) = ${this.param(s)}`;
      }
      case "co": {
        const s = v as string;
        if (s === "") return sql`${x} IS NOT NULL`;
        return sql`instr(${x}, ${this.param(s)}) > 0`;
      }
      default:
        throw invalidFilter(`'${op}' is not a SCIM comparison operator (at '${display}').`);
    }
  }
}

function evaluateConst(op: string, def: ConstAttr, value: string | number | boolean): boolean {
  let a: string | boolean = def.value;
  let b = value;
  if (typeof a === "string" && typeof b === "string" && !def.caseExact) {
    a = a.toLowerCase();
    b = b.toLowerCase();
  }
  switch (op) {
    case "eq":
      return a === b;
    case "ne":
      return a !== b;
    case "co":
      return typeof a === "string" && a.includes(String(b));
    case "sw":
      return typeof a === "string" && a.startsWith(String(b));
    case "ew":
      return typeof a === "string" && a.endsWith(String(b));
    case "gt":
      return a > b;
    case "ge":
      return a >= b;
    case "lt":
      return a < b;
    case "le":
      return a <= b;
    default:
      return false;
  }
}

/** Parses nothing: compiles an already-parsed filter against a map. */
export function compileFilter(filter: Filter, map: AttributeMap, options: CompileOptions = DEFAULT_COMPILE_OPTIONS): SQL {
  return new FilterCompiler(map, options).compile(filter);
}
