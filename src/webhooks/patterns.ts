/** Which events an endpoint subscribes to: exact types, `<prefix>.*` or `*`. */
import { EVENT_TYPES } from "../events/catalogue";

/** `webhook.test` goes only to the endpoint it was asked for, never through subscriptions. */
export const UNSUBSCRIBABLE = new Set(["webhook.test"]);

export function matchesSubscription(type: string, patterns: readonly string[]): boolean {
  if (UNSUBSCRIBABLE.has(type)) return false;
  return patterns.some((p) => p === "*" || p === type || (p.endsWith(".*") && type.startsWith(p.slice(0, -1))));
}

/** Why `pattern` is not a subscription, or null. Patterns must match at least one known event type. */
export function patternProblem(pattern: string): string | null {
  const known = (EVENT_TYPES as readonly string[]).filter((t) => !UNSUBSCRIBABLE.has(t));
  if (known.some((t) => matchesSubscription(t, [pattern]))) return null;
  const prefixes = [...new Set(known.map((t) => `${t.split(".")[0]}.*`))];
  return `'${pattern}' matches no event type; use a type (${known.slice(0, 4).join(", ")}, ...), a prefix such as ${prefixes.slice(0, 3).join(", ")}, or *`;
}
