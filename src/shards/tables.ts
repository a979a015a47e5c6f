/**
 * The tenant-data tables a move copies, in parent-first order (foreign keys: memberships ->
 * users, collections; users -> users via manager). `key` is the column that orders a tenant's
 * rows (with tenant_id fixed it is unique). Events are walked by `seq` so the copies are inserted
 * in feed order, but matched by `id`: the target assigns its own seq (see src/shards/feed.ts).
 */
export interface TenantTable {
  name: string;
  /** Unique per tenant; the conflict target of the upsert together with `conflict`. */
  key: string;
  /** A key made of several columns (joined with U+001F, in SQL and in JS alike). */
  keyColumns?: string[];
  /** The ON CONFLICT target of the upsert (the table's primary key or a unique column). */
  conflict: string[];
  /** Walk the source in this column's order instead of `key` (events: seq). */
  walk?: string;
  /** Columns never copied (the target assigns them). */
  skip?: string[];
  /** A self-referencing column: copied only when the referenced row is already there. */
  selfRef?: { column: string };
  /**
   * Columns holding a position (seq) in the tenant's feed. The target numbers events anew, so
   * these are copied as they are, left out of the comparison, and translated at the cut-over
   * (src/shards/feed-positions.ts), when nothing writes them any more.
   */
  feedPositions?: string[];
}

export const TENANT_TABLES: TenantTable[] = [
  { name: "api_tokens", key: "id", conflict: ["id"] },
  { name: "roles", key: "id", conflict: ["tenant_id", "id"] },
  { name: "identity_providers", key: "id", conflict: ["tenant_id", "id"] },
  { name: "attribute_definitions", key: "key", conflict: ["tenant_id", "key"] },
  { name: "users", key: "id", conflict: ["tenant_id", "id"], selfRef: { column: "manager_id" } },
  { name: "collections", key: "id", conflict: ["tenant_id", "id"] },
  { name: "memberships", key: "id", conflict: ["tenant_id", "id"] },
  { name: "user_provisioning", key: "user_id", conflict: ["tenant_id", "user_id"] },
  { name: "invitations", key: "id", conflict: ["tenant_id", "id"] },
  { name: "idempotency_keys", key: "key", conflict: ["tenant_id", "key"] },
  { name: "events", key: "id", conflict: ["id"], walk: "seq", skip: ["seq"] },
  { name: "event_receipts", key: "event_id", conflict: ["event_id"] },
  { name: "feed_horizons", key: "tenant_id", conflict: ["tenant_id"] },
  { name: "user_devices", key: "device_key", keyColumns: ["user_id", "id"], conflict: ["tenant_id", "user_id", "id"] },
  { name: "console_links", key: "secret_hash", conflict: ["secret_hash"] },
  { name: "console_sessions", key: "id_hash", conflict: ["id_hash"] },
  // Endpoints before their deliveries: a cursor copied no later than the deliveries it covered
  // can only make fan-out plan a delivery again, which its deterministic id turns into a no-op.
  { name: "webhook_endpoints", key: "id", conflict: ["tenant_id", "id"], feedPositions: ["cursor_seq"] },
  { name: "webhook_deliveries", key: "id", conflict: ["tenant_id", "id"], feedPositions: ["event_seq"] },
];

const IDENT = /^[a-z_][a-z0-9_]*$/;

/** Column names come from the rows themselves; refuse anything that is not a plain identifier. */
export function checkIdent(name: string): string {
  if (!IDENT.test(name)) throw new Error(`unexpected column name ${JSON.stringify(name)}`);
  return name;
}

/** The key as SQL (a column, or the composite expression). */
export function keySql(table: TenantTable): string {
  return table.keyColumns ? table.keyColumns.map(checkIdent).join(" || char(31) || ") : checkIdent(table.key);
}

/** The key of a row, equal to what keySql computes for it. */
export function keyOf(table: TenantTable, row: Record<string, unknown>): string {
  return table.keyColumns ? table.keyColumns.map((c) => String(row[c])).join("\u001f") : String(row[table.key]);
}
