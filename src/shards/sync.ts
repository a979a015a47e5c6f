/**
 * One bounded step of bringing a tenant's rows on the target shard in line with the source: read
 * a chunk of the source in key order and the same key range of the target, upsert what differs or
 * is missing, delete what the source no longer has. The copy, the online catch-up and the fenced
 * final verification are all passes of this one step; a pass that finds no difference is the
 * verification (row counts and a checksum per table, equal on both sides).
 */
import { checkIdent, keyOf, keySql, type TenantTable } from "./tables";

export const CHUNK_ROWS = 400;
/** Upserts per D1 batch: one statement per row keeps each under D1's 100 bound parameters. */
const WRITE_BATCH = 100;

type Row = Record<string, unknown>;

export interface ChunkResult {
  /** The last key (or seq) read, or null when the table is done. */
  after: string | number | null;
  rows: number;
  differences: number;
  /** FNV-1a over the source rows of the chunk, chained by the caller per table. */
  checksum: number;
}

export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function comparable(table: TenantTable, row: Row): string {
  const skip = new Set([...(table.skip ?? []), ...(table.feedPositions ?? [])]);
  return JSON.stringify(Object.keys(row).sort().filter((k) => !skip.has(k)).map((k) => [k, row[k]]));
}

function upsert(d1: D1Database, table: TenantTable, row: Row, tenantId: string): D1PreparedStatement {
  const skip = new Set(table.skip ?? []);
  const columns = Object.keys(row).filter((k) => !skip.has(k)).map(checkIdent);
  const values = columns.map((c) => row[c] ?? null);
  const placeholders = columns.map((c) =>
    table.selfRef?.column === c ? `(SELECT id FROM ${table.name} WHERE tenant_id = ? AND id = ?)` : "?",
  );
  const bound = columns.flatMap((c, i) => (table.selfRef?.column === c ? [tenantId, values[i]] : [values[i]]));
  const updates = columns.filter((c) => !table.conflict.includes(c)).map((c) => `${c} = excluded.${c}`);
  const sql = `INSERT INTO ${table.name} (${columns.join(", ")}) VALUES (${placeholders.join(", ")}) ON CONFLICT (${table.conflict.join(", ")}) DO ${updates.length ? `UPDATE SET ${updates.join(", ")}` : "NOTHING"}`;
  return d1.prepare(sql).bind(...bound);
}

/** Reads the next chunk after `after` and repairs the target's matching range. */
export async function syncChunk(source: D1Database, target: D1Database, table: TenantTable, tenantId: string, after: string | number | null, repair: boolean): Promise<ChunkResult> {
  const walk = table.walk ?? keySql(table);
  const start = after ?? (table.walk ? -1 : "");
  const sourceRows = (
    await source.prepare(`SELECT * FROM ${table.name} WHERE tenant_id = ? AND ${walk} > ? ORDER BY ${walk} LIMIT ${CHUNK_ROWS}`).bind(tenantId, start).all<Row>()
  ).results;
  const last = sourceRows.length === CHUNK_ROWS ? sourceRows[sourceRows.length - 1]! : null;
  let targetRows: Row[];
  if (table.walk) {
    // Matched by id: the target's seq differs. Ids the source dropped are found by count (below).
    const ids = sourceRows.map((r) => keyOf(table, r));
    targetRows = [];
    for (let i = 0; i < ids.length; i += 90) {
      const slice = ids.slice(i, i + 90);
      const got = await target.prepare(`SELECT * FROM ${table.name} WHERE tenant_id = ? AND ${table.key} IN (${slice.map(() => "?").join(",")})`).bind(tenantId, ...slice).all<Row>();
      targetRows.push(...got.results);
    }
  } else {
    const upper = last ? ` AND ${walk} <= ?` : "";
    const params = last ? [tenantId, start, keyOf(table, last)] : [tenantId, start];
    targetRows = (await target.prepare(`SELECT * FROM ${table.name} WHERE tenant_id = ? AND ${walk} > ?${upper}`).bind(...params).all<Row>()).results;
  }
  const targetByKey = new Map(targetRows.map((r) => [keyOf(table, r), r]));
  const writes: D1PreparedStatement[] = [];
  let checksum = 0x811c9dc5;
  for (const row of sourceRows) {
    const text = comparable(table, row);
    checksum = fnv1a(text, checksum);
    const k = keyOf(table, row);
    const existing = targetByKey.get(k);
    targetByKey.delete(k);
    if (!existing || comparable(table, existing) !== text) writes.push(upsert(target, table, row, tenantId));
  }
  // What is left in the target's range is gone from the source.
  for (const k of targetByKey.keys()) writes.push(target.prepare(`DELETE FROM ${table.name} WHERE tenant_id = ? AND ${keySql(table)} = ?`).bind(tenantId, k));
  if (repair) for (let i = 0; i < writes.length; i += WRITE_BATCH) await target.batch(writes.slice(i, i + WRITE_BATCH));
  return { after: last ? (table.walk ? (last[table.walk] as number) : keyOf(table, last)) : null, rows: sourceRows.length, differences: writes.length, checksum };
}

/** Row counts of a tenant's table on one shard (the verification compares both sides). */
export async function countRows(d1: D1Database, table: TenantTable, tenantId: string): Promise<number> {
  const row = await d1.prepare(`SELECT count(*) AS n FROM ${table.name} WHERE tenant_id = ?`).bind(tenantId).first<{ n: number }>();
  return row?.n ?? 0;
}

/** Deletes up to `limit` of a tenant's rows from a table; returns how many went. */
export async function deleteChunk(d1: D1Database, table: TenantTable, tenantId: string, limit = 500): Promise<number> {
  if (table.selfRef) {
    // Unlink every reference first, so deleting a manager before their reports never trips the key.
    const unlinked = await d1
      .prepare(`UPDATE ${table.name} SET ${table.selfRef.column} = NULL WHERE rowid IN (SELECT rowid FROM ${table.name} WHERE tenant_id = ? AND ${table.selfRef.column} IS NOT NULL LIMIT ?)`)
      .bind(tenantId, limit)
      .run();
    if ((unlinked.meta.changes ?? 0) > 0) return unlinked.meta.changes;
  }
  const result = await d1.prepare(`DELETE FROM ${table.name} WHERE rowid IN (SELECT rowid FROM ${table.name} WHERE tenant_id = ? LIMIT ?)`).bind(tenantId, limit).run();
  return result.meta.changes ?? 0;
}
