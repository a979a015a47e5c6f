/** Canonical IANA time zone name, or null when the runtime does not know the zone. */
export function canonicalTimeZone(value: string): string | null {
  if (value.length > 64) return null;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** Canonical BCP 47 tag (e.g. "en-gb" -> "en-GB"), or null when it is not well formed. */
export function canonicalLocale(value: string): string | null {
  if (value.length > 35) return null;
  try {
    return Intl.getCanonicalLocales(value)[0] ?? null;
  } catch {
    return null;
  }
}
