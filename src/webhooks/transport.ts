/**
 * One HTTP attempt to a receiver: POST, at most 10 seconds in all, redirects not followed (a 3xx
 * is a failure: following it could lead to a host the URL policy refuses), and the response body
 * read to at most 64 KiB (then dropped: only the status matters, and a receiver's body could hold
 * anything). Never throws; the outcome is a status or a safe error summary.
 *
 * `setWebhookFetch` is the one seam for tests: workerd tests cannot reach a real receiver, so they
 * hand in a function that answers like one.
 */
export const ATTEMPT_TIMEOUT_MS = 10_000;
export const MAX_RESPONSE_BYTES = 64 * 1024;

type Fetch = (request: Request) => Promise<Response>;
let fetchImpl: Fetch = (request) => fetch(request);

export function setWebhookFetch(f: Fetch | null): void {
  fetchImpl = f ?? ((request) => fetch(request));
}

export interface AttemptResult {
  status: number | null;
  error: string | null;
  durationMs: number;
}

async function drain(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (!body) return;
  const reader = body.getReader();
  let read = 0;
  try {
    while (read < MAX_RESPONSE_BYTES) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

export async function postWebhook(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
  const started = Date.now();
  const signal = AbortSignal.timeout(ATTEMPT_TIMEOUT_MS);
  try {
    const request = new Request(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "provisioning-api-webhooks/1", ...headers },
      body,
      redirect: "manual",
      signal,
    });
    const response = await fetchImpl(request);
    await drain(response.body);
    return { status: response.status, error: response.ok ? null : `HTTP ${response.status}`, durationMs: Date.now() - started };
  } catch (err) {
    const timedOut = signal.aborted || (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError"));
    return { status: null, error: timedOut ? `timeout after ${ATTEMPT_TIMEOUT_MS / 1000} s` : "connection failed", durationMs: Date.now() - started };
  }
}
