/**
 * A user's round trip with the typed client: create, read, find in a list, delete (deactivate).
 * Type-checked by `npm run typecheck` and executed by the end-to-end run (test/e2e/client.e2e.mjs),
 * so the README's example cannot silently stop compiling or working.
 */
import type { ProvisioningClient, Schema } from "../src/index.ts";

export interface RoundTrip {
  created: Schema<"User">;
  read: Schema<"User">;
  listed: Schema<"User">[];
  deleted: Schema<"User">;
}

export async function userRoundTrip(api: ProvisioningClient, externalId: string): Promise<RoundTrip> {
  const { data: created, error, response } = await api.POST("/v1/users", {
    body: { firstName: "Grace", lastName: "Hopper", email: `${externalId.toLowerCase()}@example.com`, externalId, department: "Compilers" },
    headers: { "Idempotency-Key": `create-${externalId}` },
  });
  // `error` is the typed problem+json body (code, detail, errors[]) of whichever status came back.
  if (!created) throw new Error(`create failed: ${response.status} ${error?.code}: ${error?.detail}`);

  const read = await api.GET("/v1/users/{id}", { params: { path: { id: created.id } } });
  if (!read.data) throw new Error(`read failed: ${read.response.status} ${read.error?.code}`);

  const list = await api.GET("/v1/users", { params: { query: { externalId } } });
  if (!list.data) throw new Error(`list failed: ${list.response.status} ${list.error?.code}`);

  const deleted = await api.DELETE("/v1/users/{id}", { params: { path: { id: created.id } } });
  if (!deleted.data) throw new Error(`delete failed: ${deleted.response.status} ${deleted.error?.code}`);
  // Without ?erase=true a DELETE deactivates and answers with the user; with it, an erasure receipt.
  if (!("active" in deleted.data)) throw new Error(`delete erased the user instead of deactivating: ${JSON.stringify(deleted.data)}`);

  return { created, read: read.data, listed: list.data.data, deleted: deleted.data };
}
