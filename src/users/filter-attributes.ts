/**
 * Filters and the tenant's attribute definitions. Most filters name built-ins only (Okta's and
 * Entra's `userName eq`, a sync client's `externalId eq`), and those compile without the
 * definitions, so a list costs one round trip. A filter on a custom attribute does not compile
 * against built-ins alone; only then are the definitions read, and the filter compiled again.
 */
import type { CoreContext } from "../core/context";
import { ApiError } from "../http/errors";
import { attributeSetFrom, loadAttributeSet, type AttributeSet } from "./attributes";

const builtInsOnly = attributeSetFrom([]);

export async function compileWithDefinitionsIfNeeded<T>(ctx: CoreContext, compile: (attrs: AttributeSet) => T): Promise<T> {
  try {
    return compile(builtInsOnly);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return compile(await loadAttributeSet(ctx.db, ctx.tenantId));
  }
}
