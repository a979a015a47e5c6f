// Schema and data for the benchmark, written through the D1 binding (Miniflare's getD1Database),
// in big batches and outside any timed window. Tenants and tokens come from the real platform API.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { uuidv7 } from "../../src/lib/ids.ts";
import { httpRequest, root } from "./workers.mjs";

/** Applies drizzle/*.sql in order, the same files `wrangler d1 migrations apply` would run. */
export async function applyMigrations(db) {
  const dir = path.join(root, "drizzle");
  const files = readdirSync(dir).filter((f) => /^\d+_.*\.sql$/.test(f)).sort();
  for (const file of files) {
    const statements = readFileSync(path.join(dir, file), "utf8")
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter(Boolean);
    await db.batch(statements.map((s) => db.prepare(s)));
  }
  return files;
}

/** Custom attributes every seeded user carries, defined through the API like a tenant admin would. */
export const CUSTOM_ATTRIBUTES = [
  { key: "costCenter", type: "string", label: "Cost center" },
  { key: "level", type: "enum", label: "Level", enumValues: ["L1", "L2", "L3", "L4", "L5", "L6", "L7"] },
  { key: "startDate", type: "date", label: "Start date" },
  { key: "remote", type: "boolean", label: "Remote" },
];

/** Creates a tenant and its first token through POST /platform/tenants, then its attributes. */
export async function createTenant(worker, { baseDomain, adminToken, slug, name }) {
  const res = await httpRequest(worker.url, {
    method: "POST",
    path: "/platform/tenants",
    host: baseDomain,
    headers: { authorization: `Bearer ${adminToken}` },
    body: { slug, name },
  });
  if (res.status !== 201) throw new Error(`creating tenant ${slug} answered ${res.status}: ${res.text.slice(0, 500)}`);
  const tenant = { id: res.json.tenant.id, slug, host: `${slug}.${baseDomain}`, token: res.json.token };
  for (const attr of CUSTOM_ATTRIBUTES) {
    const a = await httpRequest(worker.url, {
      method: "POST",
      path: "/v1/available-attributes",
      host: tenant.host,
      headers: { authorization: `Bearer ${tenant.token}` },
      body: attr,
    });
    if (a.status !== 201) throw new Error(`creating attribute ${attr.key} answered ${a.status}: ${a.text.slice(0, 500)}`);
  }
  return tenant;
}

// Realistic-looking data: a fixed pool of names (some with quotes and accents), departments,
// time zones; every email and externalId unique through the user's sequence number.
const FIRST = ["Jane", "John", "Aisha", "Mads", "Søren", "Zoë", "Li", "Mateo", "Olivia", "Noah", "Emma", "Liam", "Chloé", "Hiroshi", "Priya", "Omar", "Ingrid", "Lars", "Fatima", "Diego", "Anna", "Jonas", "Sara", "Ali", "Mia", "Lucas", "Ella", "Oscar", "Nora", "Emil"];
const LAST = ["Doe", "Smith", "O'Brien", "Jensen", "Nielsen", "Müller", "García", "Kowalski", "Nguyen", "Khan", "Rossi", "Dubois", "Tanaka", "Andersen", "Larsen", "Silva", "D'Angelo", "Hansen", "Pedersen", "Schmidt"];
const DEPARTMENTS = ["Legal", "Finance", "Engineering", "Sales", "Marketing", "Support", "HR", "Operations", "Compliance", "Research"];
const TITLES = ["Analyst", "Engineer", "Manager", "Director", "Specialist", "Associate", "Coordinator", "Consultant"];
const ZONES = [["Europe/Copenhagen", "da-DK"], ["Europe/Berlin", "de-DE"], ["America/New_York", "en-US"], ["Europe/London", "en-GB"], ["Asia/Tokyo", "ja-JP"], ["America/Sao_Paulo", "pt-BR"]];
const LEVELS = CUSTOM_ATTRIBUTES[1].enumValues;

export const USER_COLUMNS = [
  "tenant_id", "id", "external_id", "email", "email_lower", "first_name", "last_name", "display_name", "phone", "title",
  "department", "manager_id", "timezone", "locale", "user_type", "active", "attributes", "version", "created_at", "updated_at", "erased_at",
  // Identity fields: user_name NULL means "the email", and user_name_lower (kept by the users core)
  // is then lower(email); enterprise fields as SCIM clients send them.
  "user_name", "user_name_lower", "employee_number", "cost_center", "organization", "division",
];

const ascii = (s) => s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[^A-Za-z]/g, "").toLowerCase();

/** The i-th user of a tenant (0-based); createdAt increases with i, so ids sort by i. */
export function makeUser(tenantId, slug, i, createdAt, managerId) {
  const first = FIRST[i % FIRST.length];
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length];
  const email = `${ascii(first)}.${ascii(last)}.${i}@${slug}.example.com`;
  const [timezone, locale] = ZONES[i % ZONES.length];
  const start = new Date(createdAt).toISOString().slice(0, 10);
  const attributes = JSON.stringify({ costCenter: `CC-${1000 + (i % 500)}`, level: LEVELS[i % LEVELS.length], startDate: start, remote: i % 3 === 0 });
  return [
    tenantId, uuidv7(createdAt), `HR-${String(i).padStart(7, "0")}`, email, email, first, last, `${first} ${last}`,
    `+45 ${String(20000000 + i).slice(0, 8)}`, TITLES[i % TITLES.length], DEPARTMENTS[i % DEPARTMENTS.length], managerId,
    timezone, locale, i % 20 === 0 ? "Contractor" : "Employee", i % 50 === 0 ? 0 : 1, attributes, 1, createdAt, createdAt, null,
    null, email, `E${String(i).padStart(7, "0")}`, `CC-${1000 + (i % 500)}`, "Bench Corp", DEPARTMENTS[(i + 3) % DEPARTMENTS.length],
  ];
}

function sqlLiteral(v) {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "number") return String(v);
  return `'${String(v).replaceAll("'", "''")}'`;
}

const INSERT_HEAD = `INSERT INTO users (${USER_COLUMNS.join(", ")}) VALUES `;
/** D1 caps one statement at 100 KB and 100 bound parameters. */
const MAX_STATEMENT_BYTES = 95_000;
const ROWS_PER_BOUND_STATEMENT = Math.floor(100 / USER_COLUMNS.length);

/**
 * Seeds `count` users into a tenant. Two ways, both through the D1 binding:
 *  - "literal": multi-row INSERTs with literal values, each just under D1's 100 KB statement cap,
 *    `statementsPerBatch` statements per batch() call;
 *  - "bound": multi-row INSERTs with bound parameters (as many rows as fit in 100 parameters).
 * Returns the users the load scenarios will look up (a spread-out sample) and the timing.
 */
export async function seedUsers(db, tenant, count, { method = "literal", statementsPerBatch, sampleSize = 2000, keepIndexes = [], onProgress, deadline } = {}) {
  const started = performance.now();
  const spanMs = 3 * 365 * 24 * 3600 * 1000;
  const stepMs = Math.max(1, Math.floor(spanMs / Math.max(count, 1)));
  const t0 = Date.now() - spanMs - 60_000;
  const sampleEvery = Math.max(1, Math.floor(count / sampleSize));
  const keep = new Set(keepIndexes);
  const sample = [];
  const kept = new Map();
  const recentIds = []; // ring of the last 100 ids: managers are earlier users
  const perBatch = statementsPerBatch ?? (method === "literal" ? 20 : 250);

  let statements = [];
  let literalRows = [];
  let literalBytes = INSERT_HEAD.length;
  let boundRows = [];
  let batches = 0;
  let lastReport = 0;

  const flushStatements = async (force) => {
    if (statements.length === 0 || (!force && statements.length < perBatch)) return;
    if (deadline && Date.now() > deadline) throw new Error(`seeding ${tenant.slug} ran past its time budget`);
    await db.batch(statements);
    statements = [];
    batches++;
  };
  const closeLiteral = () => {
    if (literalRows.length === 0) return;
    statements.push(db.prepare(INSERT_HEAD + literalRows.join(",")));
    literalRows = [];
    literalBytes = INSERT_HEAD.length;
  };
  const closeBound = () => {
    if (boundRows.length === 0) return;
    const placeholders = boundRows.map(() => `(${USER_COLUMNS.map(() => "?").join(",")})`).join(",");
    statements.push(db.prepare(INSERT_HEAD + placeholders).bind(...boundRows.flat()));
    boundRows = [];
  };

  for (let i = 0; i < count; i++) {
    const createdAt = t0 + i * stepMs;
    const managerId = i >= 100 && i % 10 === 5 ? recentIds[i % 100] : null;
    const row = makeUser(tenant.id, tenant.slug, i, createdAt, managerId);
    recentIds[i % 100] = row[1];
    if (i % sampleEvery === Math.floor(sampleEvery / 2) && sample.length < sampleSize) {
      sample.push({ index: i, id: row[1], email: row[3], externalId: row[2] });
    }
    if (keep.has(i)) kept.set(i, { index: i, id: row[1], email: row[3], externalId: row[2] });

    if (method === "literal") {
      const tuple = `(${row.map(sqlLiteral).join(",")})`;
      if (literalBytes + tuple.length + 1 > MAX_STATEMENT_BYTES) closeLiteral();
      literalRows.push(tuple);
      literalBytes += tuple.length + 1;
    } else {
      boundRows.push(row);
      if (boundRows.length === ROWS_PER_BOUND_STATEMENT) closeBound();
    }
    if (statements.length >= perBatch) await flushStatements(false);
    if (onProgress && i - lastReport >= count / 10) {
      lastReport = i;
      onProgress(i, performance.now() - started);
    }
  }
  closeLiteral();
  closeBound();
  await flushStatements(true);
  const ms = performance.now() - started;
  // Shuffle the sample so that consecutive requests hit unrelated rows (deterministic order).
  let seed = 0x9e3779b9;
  const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  for (let i = sample.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [sample[i], sample[j]] = [sample[j], sample[i]];
  }
  return { count, method, ms, rowsPerSecond: count / (ms / 1000), batches, sample, kept };
}
