/**
 * D1 reports constraint failures only as message text ("UNIQUE constraint failed: users.tenant_id,
 * users.email_lower: SQLITE_CONSTRAINT"), and Drizzle wraps single queries in an error whose
 * message carries the SQL and its parameters. These helpers classify such errors without ever
 * letting their text reach a client.
 */
function messagesOf(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(current.message);
      current = (current as { cause?: unknown }).cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(" | ");
}

/** The "table.column, table.column" list of a violated UNIQUE constraint, if that is what failed. */
export function uniqueViolation(err: unknown): string | null {
  const match = /UNIQUE constraint failed: ([\w.,\s]+?)(?::\s*SQLITE|$| \|)/.exec(messagesOf(err));
  return match ? match[1]!.trim() : null;
}

export function isForeignKeyViolation(err: unknown): boolean {
  return messagesOf(err).includes("FOREIGN KEY constraint failed");
}
