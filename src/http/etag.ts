/** Parses If-Match / If-None-Match lists of version entity tags (W/"3", "3" or *). */
export type ETagCondition = { any: true } | { any: false; versions: number[] };

export function parseETagList(header: string | undefined): ETagCondition | undefined {
  if (header === undefined) return undefined;
  if (header.trim() === "*") return { any: true };
  const versions: number[] = [];
  for (const part of header.split(",")) {
    const m = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(part);
    if (m) versions.push(Number(m[1]));
  }
  return { any: false, versions };
}

export function matches(condition: ETagCondition, version: number): boolean {
  return condition.any || condition.versions.includes(version);
}
