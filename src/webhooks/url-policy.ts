/**
 * Where a webhook may point. Checked when an endpoint is saved and again before every attempt
 * (the policy or the deployment may have changed since). Redirects are never followed
 * (transport.ts), so a receiver cannot bounce us to a host this would refuse.
 *
 * Production: https only, a DNS name (no IP literal of any notation: the URL parser turns
 * `http://2130706433` into 127.0.0.1 first), not localhost, not a metadata or internal name, no
 * credentials in the URL. WEBHOOK_ALLOW_LOCAL_URLS=true (npm run dev) also admits http and https to
 * localhost, 127.0.0.1 and [::1], so a developer can run a receiver on their machine.
 */
const BLOCKED_NAMES = new Set(["localhost", "metadata", "metadata.google.internal", "instance-data", "metadata.azure.com"]);
const BLOCKED_SUFFIXES = [".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".in-addr.arpa", ".ip6.arpa"];
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const MAX_URL_LENGTH = 2048;

export function allowLocalUrls(env: { WEBHOOK_ALLOW_LOCAL_URLS?: string }): boolean {
  return env.WEBHOOK_ALLOW_LOCAL_URLS === "true";
}

/** Why `raw` may not receive webhooks, or null when it may. */
export function webhookUrlProblem(raw: string, allowLocal: boolean): string | null {
  if (raw.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute URL such as https://hooks.example.com/provisioning";
  }
  const host = url.hostname.toLowerCase();
  if (url.username || url.password) return "must not contain credentials; authenticate the request with its signature";
  if (allowLocal && LOCAL_HOSTS.has(host) && (url.protocol === "http:" || url.protocol === "https:")) return null;
  if (url.protocol !== "https:") return "must use https";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith("[")) return "must name a host by DNS name, not an IP address";
  if (BLOCKED_NAMES.has(host) || BLOCKED_SUFFIXES.some((s) => host.endsWith(s)) || !host.includes(".")) {
    return "must be a public host (not localhost, an internal name or a cloud metadata service)";
  }
  return null;
}
