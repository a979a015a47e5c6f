import { describe, expect, it } from "vitest";
import { createTenant, createUser } from "./helpers";

describe("smoke", () => {
  it("creates a tenant and a user", async () => {
    const t = await createTenant();
    const user = await createUser(t);
    expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
    const res = await t.call(`/v1/users/${user.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe('W/"1"');
  });
});
