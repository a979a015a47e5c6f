/**
 * The attribute map: how an adapter describes its filterable attributes to the compiler
 * (./compile.ts) - scalar columns with their type and indexed lower-case expression, constant
 * sub-attributes, complex attributes with sub-attributes, and schema-URN prefixes. SCIM, REST and
 * the collection rules each build one; the compiler only reads it. Kept apart from the compiler
 * so the adapters depend on this small contract, not on the compiler's internals.
 */
import type { SQL, SQLWrapper } from "drizzle-orm";

export type ValueType = "string" | "boolean" | "integer" | "decimal" | "dateTime" | "reference";

export interface ScalarAttr {
  kind: "scalar";
  type: ValueType;
  /** The stored value. */
  expr: SQLWrapper;
  caseExact: boolean;
  /** lower(expr), preferably one an index covers; defaults to lower(expr). */
  lowerExpr?: SQLWrapper;
  /** Converts a filter literal to the stored representation (e.g. ISO date-time -> epoch ms). */
  toStored?: (value: string | number | boolean) => string | number | boolean | undefined;
  /** Whether gt/ge/lt/le make sense (false for e.g. reference ids). Defaults to true except booleans. */
  ordered?: boolean;
}

/** A sub-attribute with a fixed value, e.g. emails.type is always "work" in a one-email store. */
export interface ConstAttr {
  kind: "const";
  type: ValueType;
  value: string | boolean;
  caseExact: boolean;
}

/**
 * A complex attribute. Multi-valued ones hold at most one element in this store (one email, one
 * phone), so "the same element" in `emails[type eq "work" and value co "x"]` is that element and
 * the conditions simply combine; `presence` says whether the element exists.
 */
export interface ComplexAttr {
  kind: "complex";
  multiValued: boolean;
  presence: SQL;
  sub: Record<string, ScalarAttr | ConstAttr>;
  /** Sub-attribute a bare `emails co "x"` compares (RFC 7644 examples); none for `name`. */
  defaultSub?: string;
}

export type AttrDef = ScalarAttr | ConstAttr | ComplexAttr;

export interface SchemaAttributes {
  /** Schema URN; attribute paths may be prefixed with `<urn>:`. */
  urn: string;
  /** Keyed by attribute name (any case; looked up case-insensitively). */
  attributes: Record<string, AttrDef>;
}

export interface AttributeMap {
  /** The first schema is the core one: its attributes need no URN prefix. */
  schemas: SchemaAttributes[];
}

export interface CompileOptions {
  /** Bound parameters the filter may use (leave room for tenant id, paging). */
  maxParams: number;
}

export const DEFAULT_COMPILE_OPTIONS: CompileOptions = { maxParams: 60 };
