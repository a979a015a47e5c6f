/**
 * GET /docs: the API reference page. The UI is Scalar's standalone bundle, served by this Worker's
 * static assets (public/docs/assets/, copied from the pinned npm package by scripts/docs-assets.mjs),
 * so the page loads no CDN and works offline. The bundle reads its configuration from the data
 * attributes of `<script id="api-reference">` (a JSON script, never executed), so the page carries
 * no inline script and the CSP can say `script-src 'self'`.
 */
import type { Context } from "hono";

/** Where wrangler's [assets] serves the bundle from (public/docs/assets/scalar-api-reference.js). */
export const REFERENCE_SCRIPT_PATH = "/docs/assets/scalar-api-reference.js";

/**
 * What the UI may do: no remote fonts, no telemetry, no AI agent or MCP calls to scalar.com, and the
 * "try it" client talks to this origin directly (no proxy). Anything else it tried would be refused
 * by the CSP below.
 */
const CONFIGURATION = {
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: "never",
  documentDownloadType: "json",
};

/**
 * Scripts only from this origin (no inline script, no eval). Styles allow 'unsafe-inline': the
 * bundle sets style attributes and injects several <style> elements at runtime, and a nonce covers
 * only some of them (tried: Chromium refused the rest and the page rendered unstyled).
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  // The OpenAPI document and "try it" requests go to this origin only.
  "connect-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

const escapeAttribute = (text: string) => text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>User provisioning API reference</title>
  </head>
  <body>
    <noscript>The API reference needs JavaScript. The OpenAPI document itself is at <a href="/openapi.json">/openapi.json</a>.</noscript>
    <script id="api-reference" type="application/json" data-url="/openapi.json" data-configuration="${escapeAttribute(JSON.stringify(CONFIGURATION))}"></script>
    <script src="${REFERENCE_SCRIPT_PATH}"></script>
  </body>
</html>
`;

export function apiReference(c: Context) {
  c.header("Content-Security-Policy", DOCS_CONTENT_SECURITY_POLICY);
  c.header("Referrer-Policy", "no-referrer");
  c.header("X-Frame-Options", "DENY");
  return c.html(PAGE);
}
