// End-to-end: /docs works with no internet. The page and the reference UI's script come from the
// dev server (the script byte for byte the pinned @scalar/api-reference bundle), and Chromium, with
// every request to any other host refused and recorded, renders the operations from /openapi.json.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { httpRequest } from "./dev-server.mjs";

const root = path.resolve(import.meta.dirname, "..", "..");
const BUNDLE = path.join(root, "node_modules", "@scalar", "api-reference", "dist", "browser", "standalone.js");

export async function docsSuite({ server, browser, step }) {
  const origin = `http://localhost:${server.port}`;
  let scriptPath;
  await step("the page: a CSP without inline script, nosniff, the script from this server", async () => {
    const res = await httpRequest(server.port, "localhost", "GET", "/docs");
    assert.equal(res.status, 200);
    const csp = res.headers["content-security-policy"] ?? "";
    assert.match(csp, /(^|; )script-src 'self'(;|$)/, csp);
    assert.match(csp, /(^|; )connect-src 'self'(;|$)/, csp);
    assert.doesNotMatch(csp, /https?:|\*/, "the CSP names no other host");
    assert.equal(res.headers["x-content-type-options"], "nosniff");
    const scripts = [...res.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.ok(scripts.length >= 1, res.body);
    for (const [, attrs, body] of scripts) assert.ok(/\bsrc="\//.test(attrs) || (/type="application\/json"/.test(attrs) && body.trim() === ""), `inline script: <script${attrs}>${body.slice(0, 80)}`);
    scriptPath = /<script src="(\/[^"]+)"/.exec(res.body)?.[1];
    assert.ok(scriptPath, "the page loads its UI from a path on this host");
  });

  await step("the script is the pinned npm package's bundle, served as a static asset", async () => {
    const res = await httpRequest(server.port, "localhost", "GET", scriptPath);
    assert.equal(res.status, 200);
    assert.match(res.headers["content-type"] ?? "", /javascript/);
    assert.equal(res.headers["x-content-type-options"], "nosniff");
    assert.equal(res.body, readFileSync(BUNDLE, "utf8"), `${scriptPath} differs from ${path.relative(root, BUNDLE)}`);
    // Paths next to it that are no file still reach the Worker (its problem+json 404).
    const missing = await httpRequest(server.port, "localhost", "GET", "/docs/assets/missing.js");
    assert.equal(missing.status, 404);
    assert.match(missing.headers["content-type"] ?? "", /problem\+json/);
  });

  await step("offline: Chromium lists the operations, no other host asked, no CSP violation", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // The UI is one 4.8 MB script: parsing it takes a while on a busy machine.
    context.setDefaultTimeout(60_000);
    try {
      const outside = [];
      // Not setOffline(): that would cut the dev server off too. Every request the page makes, to
      // whatever host, passes here; anything not to the dev server is refused and recorded.
      await context.route("**", (route) => {
        const url = route.request().url();
        if (url.startsWith(`${origin}/`)) return route.continue();
        outside.push(url);
        return route.abort("internetdisconnected");
      });
      const page = await context.newPage();
      const problems = [];
      page.on("console", (m) => /Content Security Policy|Refused to/i.test(m.text()) && problems.push(m.text()));
      page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
      const documentLoaded = page.waitForResponse((r) => r.url() === `${origin}/openapi.json` && r.status() === 200);
      await page.goto(`${origin}/docs`);
      await documentLoaded;
      // The first tag of the document (Users) opens by itself; opening Tenants shows its operations.
      await page.getByText("List users", { exact: true }).first().waitFor();
      await page.getByRole("button", { name: "Open Group - Tenants", exact: true }).click();
      await page.getByText("List tenants", { exact: true }).first().waitFor();
      assert.deepEqual(outside, [], "requests to other hosts");
      assert.deepEqual(problems, [], "CSP violations and page errors");
    } finally {
      await context.close();
    }
  }, 150_000);
}
