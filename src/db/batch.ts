/**
 * A D1 batch of Drizzle builders and raw prepared statements. Drizzle's own `db.batch()` cannot
 * carry `db.run(sql...)` items with parameters, which conditional statements (e.g. "insert only if
 * the previous statement changed a row") need. The batch is still one D1 transaction.
 */
import type { Db } from "../env";

export type BatchStatement = D1PreparedStatement | { toSQL(): { sql: string; params: unknown[] } };

export function batchOf(db: Db, statements: BatchStatement[]): Promise<D1Result[]> {
  const d1 = db.$client;
  return d1.batch(statements.map((s) => ("bind" in s ? s : d1.prepare(s.toSQL().sql).bind(...s.toSQL().params))));
}
