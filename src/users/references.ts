/**
 * Roles and identity providers as the users core sees them: what a user may reference, and how a
 * role id is shown by name. Both tables are small per tenant, so they are read whole.
 */
import { asc, eq } from "drizzle-orm";
import { roles } from "../db/schema";
import type { Db } from "../env";
import type { FieldError } from "../http/errors";

export interface RoleRef {
  id: string;
  name: string;
}

export class RoleDirectory {
  private readonly byId: Map<string, RoleRef>;
  private readonly byName: Map<string, RoleRef>;

  constructor(readonly all: RoleRef[]) {
    this.byId = new Map(all.map((r) => [r.id, r]));
    this.byName = new Map(all.map((r) => [r.name, r]));
  }

  nameOf(id: string | null): string | null {
    return id === null ? null : (this.byId.get(id)?.name ?? null);
  }

  hasId(id: string): boolean {
    return this.byId.has(id);
  }

  /** Resolves a role given by exact name; on a miss, explains which names are valid. */
  resolveName(name: string, errors: FieldError[], path = "role"): string | null {
    const role = this.byName.get(name);
    if (role) return role.id;
    const hint = this.all.find((r) => r.name.toLowerCase() === name.toLowerCase());
    const names = this.all.map((r) => JSON.stringify(r.name)).join(", ");
    errors.push({
      path,
      message:
        this.all.length === 0
          ? "this tenant has no roles yet (an admin creates them with POST /v1/roles)"
          : `must name an existing role exactly${hint ? ` (did you mean ${JSON.stringify(hint.name)}? names are case-sensitive)` : ""}; valid roles: ${names}`,
    });
    return null;
  }
}

export function rolesQuery(db: Db, tenantId: string) {
  return db.select({ id: roles.id, name: roles.name }).from(roles).where(eq(roles.tenantId, tenantId)).orderBy(asc(roles.name));
}

export async function loadRoles(db: Db, tenantId: string): Promise<RoleDirectory> {
  return new RoleDirectory(await rolesQuery(db, tenantId).all());
}

export interface IdentityProviderRef {
  id: string;
  name: string;
  enabled: boolean;
}

export function checkIdentityProvider(all: IdentityProviderRef[], id: string, errors: FieldError[]): void {
  const idp = all.find((r) => r.id === id);
  if (!idp) {
    const available = all.filter((r) => r.enabled).map((r) => `${r.id} (${r.name})`);
    errors.push({
      path: "identityProviderId",
      message: `no identity provider with id '${id}' exists in this tenant${available.length ? `; enabled ones: ${available.join(", ")}` : ""}`,
    });
  } else if (!idp.enabled) {
    errors.push({
      path: "identityProviderId",
      message: `identity provider '${idp.name}' is disabled; enable it (PATCH /v1/identity-providers/${idp.id} {"enabled": true}) or choose another`,
    });
  }
}
