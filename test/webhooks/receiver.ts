/**
 * A stand-in for receivers on the internet: workerd tests cannot reach a real one, so outbound
 * webhook requests go through webhooks/transport.ts's seam to this. Hosts decide the answer.
 */
import { setWebhookFetch } from "../../src/webhooks/transport";

export interface Received {
  host: string;
  headers: Record<string, string>;
  body: string;
}

export const received: Received[] = [];
/** host -> status to answer (default 200). */
export const answers = new Map<string, number>();

export function installReceiver(): void {
  setWebhookFetch(async (request) => {
    const url = new URL(request.url);
    received.push({ host: url.host, headers: Object.fromEntries(request.headers), body: await request.text() });
    return new Response("ok", { status: answers.get(url.host) ?? 200 });
  });
}

export function to(host: string): Received[] {
  return received.filter((r) => r.host === host);
}
