/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-signature` is
 * `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, one per valid secret, space-separated,
 * so that during a rotation's overlap a receiver holding either secret verifies the message.
 * Signed with the reference library (`standardwebhooks`, pure JavaScript: it runs on Workers
 * without Node shims), so we sign exactly as receivers verify.
 */
import { Webhook } from "standardwebhooks";

export interface SignedHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

export function signMessage(secrets: string[], id: string, nowMs: number, body: string): SignedHeaders {
  const timestamp = new Date(Math.floor(nowMs / 1000) * 1000);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(nowMs / 1000)),
    "webhook-signature": secrets.map((s) => new Webhook(s).sign(id, timestamp, body)).join(" "),
  };
}
