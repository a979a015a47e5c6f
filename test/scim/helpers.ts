/** SCIM test helpers: requests through the real Worker with SCIM headers. */
import { expect } from "vitest";
import { call, type CallOptions, type TestTenant } from "../helpers";

export const CORE = "urn:ietf:params:scim:schemas:core:2.0:User";
export const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
export const TENANT_EXT = "urn:provisioning:params:scim:schemas:extension:tenant:2.0:User";
export const PROVISIONING_EXT = "urn:ietf:params:scim:schemas:extension:provisioning:2.0:User";
export const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
export const LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
export const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";

export async function scim(t: TestTenant, path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/scim+json", ...options.headers };
  if (options.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
    headers["Content-Type"] = "application/scim+json; charset=utf-8";
  }
  return call(t.host, `/scim/v2${path}`, { token: t.token, ...options, headers });
}

export async function scimBody(res: Response): Promise<Record<string, any>> {
  expect(res.headers.get("Content-Type")).toMatch(/^application\/scim\+json/);
  return (await res.json()) as Record<string, any>;
}

export async function scimError(res: Response, status: number, scimType?: string): Promise<Record<string, any>> {
  const body = await scimBody(res);
  expect(res.status).toBe(status);
  expect(body.schemas).toEqual([ERROR]);
  expect(body.status).toBe(String(status));
  expect(typeof body.detail).toBe("string");
  expect(body.detail.length).toBeGreaterThan(0);
  if (scimType) expect(body.scimType).toBe(scimType);
  return body;
}

let n = 0;
export function scimUser(overrides: Record<string, unknown> = {}): Record<string, any> {
  n += 1;
  const id = `${Date.now().toString(36)}${n}`;
  return {
    schemas: [CORE],
    userName: `user.${id}@example.com`,
    externalId: `ext-${id}`,
    name: { givenName: "Barbara", familyName: `Jensen${id}` },
    emails: [{ value: `user.${id}@example.com`, type: "work", primary: true }],
    active: true,
    ...overrides,
  };
}

export async function createScimUser(t: TestTenant, overrides: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const res = await scim(t, "/Users", { method: "POST", body: scimUser(overrides) });
  if (res.status !== 201) throw new Error(`SCIM create failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, any>;
}

export function patch(...ops: Record<string, unknown>[]) {
  return { schemas: [PATCH_OP], Operations: ops };
}
