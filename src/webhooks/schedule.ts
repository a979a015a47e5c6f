/**
 * The retry schedule (published in README.md, "Webhooks"). The first attempt is made at once; after
 * a failure the next attempt waits RETRY_DELAYS_SECONDS[n], give or take 10% jitter so that
 * receivers coming back from an outage are not hit by every retry at the same second. The jitter
 * is derived from the delivery id and the retry number: spread across deliveries, yet
 * reproducible in tests. Every delay fits one Cloudflare Queues `delaySeconds` (at most 12 hours).
 */
export const RETRY_DELAYS_SECONDS = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;
/** Cloudflare Queues' largest delaySeconds. */
export const QUEUE_MAX_DELAY_SECONDS = 12 * 3600;
/** An endpoint that has seen nothing but failures for this long is disabled. */
export const DISABLE_AFTER_FAILING_MS = 5 * 24 * 3600 * 1000;
const JITTER = 0.1;

function unitHash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0) / 0xffffffff;
}

/** Milliseconds to wait after failed retry number `retry` (0 = the first attempt), or null when the schedule is over. */
export function retryDelayMs(deliveryId: string, retry: number): number | null {
  const base = RETRY_DELAYS_SECONDS[retry];
  if (base === undefined) return null;
  const factor = 1 - JITTER + 2 * JITTER * unitHash(`${deliveryId}:${retry}`);
  return Math.round(base * 1000 * factor);
}
