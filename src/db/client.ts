import type { SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";
import type { Db } from "../env";

export function createDb(d1: D1Database): Db {
  return drizzle(d1, { schema });
}

/**
 * `db.run(sql)` for use inside `db.batch()`. Drizzle's D1 batch binds parameters on the prepared
 * statement (`stmt`), which raw queries lack, so a raw query with parameters crashes the batch
 * ("Cannot read properties of undefined (reading 'bind')"); this attaches one.
 */
export function batchableRun(db: Db, query: SQL) {
  const raw = db.run(query);
  const client = (db as unknown as { $client: D1Database }).$client;
  (raw as unknown as { stmt: D1PreparedStatement }).stmt = client.prepare(raw.getQuery().sql);
  return raw;
}
