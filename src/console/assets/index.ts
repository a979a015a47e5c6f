/**
 * Static assets, named by a hash of their content so that they can be cached for good and a new
 * deployment is picked up at once. The hash is FNV-1a: it only has to change when the text does.
 */
import type { Context } from "hono";
import { SCRIPT } from "./script";
import { STYLES } from "./styles";

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36);
}

export const STYLESHEET_PATH = `/console/assets/console.${fnv1a(STYLES)}.css`;
export const SCRIPT_PATH = `/console/assets/console.${fnv1a(SCRIPT)}.js`;

const ASSETS = new Map([
  [STYLESHEET_PATH, { body: STYLES, type: "text/css; charset=utf-8" }],
  [SCRIPT_PATH, { body: SCRIPT, type: "text/javascript; charset=utf-8" }],
]);

export function serveAsset(c: Context): Response {
  const asset = ASSETS.get(new URL(c.req.url).pathname);
  if (!asset) return c.text("No such asset.", 404);
  return c.body(asset.body, 200, { "Content-Type": asset.type, "Cache-Control": "public, max-age=31536000, immutable" });
}
