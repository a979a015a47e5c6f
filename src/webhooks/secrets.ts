/**
 * Signing secrets. We must be able to sign with them, so they cannot be hashed like API tokens;
 * they are encrypted at rest with AES-256-GCM under WEBHOOK_SECRET_KEY (a Worker secret, 32 bytes
 * base64), with the tenant and endpoint ids as associated data so that a ciphertext copied onto
 * another row does not decrypt. A database dump alone reveals no secret.
 */
import { ApiError } from "../http/errors";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** `whsec_` + base64 of 32 random bytes: the format the standardwebhooks libraries accept. */
export function generateSigningSecret(): string {
  return `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
}

const keys = new Map<string, Promise<CryptoKey>>();

function keyFrom(env: { WEBHOOK_SECRET_KEY?: string }): Promise<CryptoKey> {
  const raw = env.WEBHOOK_SECRET_KEY;
  let bytes: Uint8Array | undefined;
  try {
    bytes = raw ? fromBase64(raw.trim()) : undefined;
  } catch {
    bytes = undefined;
  }
  if (!bytes || bytes.length !== 32) {
    throw new ApiError("unavailable", "Webhooks are not configured on this deployment (WEBHOOK_SECRET_KEY must be 32 bytes, base64).");
  }
  let key = keys.get(raw!);
  if (!key) {
    key = crypto.subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]);
    keys.set(raw!, key);
  }
  return key;
}

export interface SecretOwner {
  tenantId: string;
  endpointId: string;
}

export async function encryptSecret(env: { WEBHOOK_SECRET_KEY?: string }, owner: SecretOwner, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const additionalData = encoder.encode(`${owner.tenantId}/${owner.endpointId}`);
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData }, await keyFrom(env), encoder.encode(secret));
  return `v1.${toBase64(iv)}.${toBase64(new Uint8Array(sealed))}`;
}

export async function decryptSecret(env: { WEBHOOK_SECRET_KEY?: string }, owner: SecretOwner, stored: string): Promise<string> {
  const [version, iv, sealed] = stored.split(".");
  if (version !== "v1" || !iv || !sealed) throw new Error("webhook secret: unknown storage format");
  const additionalData = encoder.encode(`${owner.tenantId}/${owner.endpointId}`);
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64(iv), additionalData }, await keyFrom(env), fromBase64(sealed));
  return decoder.decode(plain);
}
