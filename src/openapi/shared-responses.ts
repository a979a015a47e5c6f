/**
 * Error responses that are the same on many operations (same description, content and headers)
 * are moved to `components.responses` and referenced, so the document stays readable and a
 * generated client gets one type per kind of error instead of one per operation.
 */
import { operationsOf, type Json, type OpenApiDoc } from "./types";

const REASONS: Record<string, string> = {
  "400": "BadRequest",
  "401": "Unauthorized",
  "403": "Forbidden",
  "404": "NotFound",
  "405": "MethodNotAllowed",
  "409": "Conflict",
  "410": "Gone",
  "412": "PreconditionFailed",
  "413": "ContentTooLarge",
  "415": "UnsupportedMediaType",
  "422": "UnprocessableContent",
  "423": "Locked",
  "429": "TooManyRequests",
  "501": "NotImplemented",
  "503": "ServiceUnavailable",
};

export function shareResponses(doc: OpenApiDoc): void {
  // First pass: how often each distinct error response occurs, in document order.
  const counts = new Map<string, { status: string; response: Json; count: number }>();
  for (const { operation } of operationsOf(doc)) {
    for (const [status, response] of Object.entries(operation.responses as Json)) {
      if (!REASONS[status]) continue;
      const key = `${status} ${JSON.stringify(response)}`;
      const seen = counts.get(key);
      if (seen) seen.count += 1;
      else counts.set(key, { status, response, count: 1 });
    }
  }
  // Names: the reason phrase, numbered from the second variant of the same status on.
  const names = new Map<string, string>();
  const perStatus = new Map<string, number>();
  const shared: Json = {};
  for (const [key, { status, response, count }] of counts) {
    if (count < 2) continue;
    const n = (perStatus.get(status) ?? 0) + 1;
    perStatus.set(status, n);
    const name = n === 1 ? REASONS[status]! : `${REASONS[status]}${n}`;
    names.set(key, name);
    shared[name] = response;
  }
  for (const { operation } of operationsOf(doc)) {
    for (const [status, response] of Object.entries(operation.responses as Json)) {
      const name = names.get(`${status} ${JSON.stringify(response)}`);
      if (name) operation.responses[status] = { $ref: `#/components/responses/${name}` };
    }
  }
  doc.components ??= {};
  doc.components.responses = { ...doc.components.responses, ...shared };
}
