/** An app with a manual clock, called through the Worker's own fetch: time moves only by hand. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createApp } from "../../src/app";
import { manualClock } from "../../src/core/context";
import type { CallOptions, TestTenant } from "../helpers";

export function clockedApp(start = Date.UTC(2026, 0, 1)) {
  const clock = manualClock(start);
  const app = createApp({ clock });
  async function call(t: TestTenant, path: string, o: CallOptions = {}): Promise<Response> {
    const headers = new Headers(o.headers);
    headers.set("Authorization", `Bearer ${o.token ?? t.token}`);
    let body = o.rawBody;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
    }
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(`https://${t.host}${path}`, { method: o.method ?? (body ? "POST" : "GET"), headers, body }), env, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  }
  return { clock, call };
}
