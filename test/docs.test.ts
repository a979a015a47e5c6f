/// <reference types="vite/client" />
/**
 * /docs: the reference page is served by the Worker with a CSP that allows scripts from this
 * origin only, and its UI script is the static asset wrangler.toml's [assets] serves (that file
 * and its headers are proven in Chromium by test/e2e/docs.e2e.mjs, with the network cut off).
 */
import headersFile from "../public/_headers?raw";
import { beforeAll, describe, expect, it } from "vitest";
import { REFERENCE_SCRIPT_PATH } from "../src/docs/reference";
import { BASE, call, createTenant, type TestTenant } from "./helpers";

function directives(csp: string): Map<string, string[]> {
  return new Map(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
}

describe("GET /docs", () => {
  let tenant: TestTenant;
  beforeAll(async () => {
    tenant = await createTenant();
  });

  for (const where of ["apex", "tenant"] as const) {
    it(`answers on the ${where} host with a CSP that allows no inline script and no other host`, async () => {
      const res = await call(where === "apex" ? BASE : tenant.host, "/docs");
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(res.headers.get("X-Frame-Options")).toBe("DENY");
      const csp = directives(res.headers.get("Content-Security-Policy") ?? "");
      expect(csp.get("default-src")).toEqual(["'none'"]);
      expect(csp.get("script-src")).toEqual(["'self'"]);
      expect(csp.get("connect-src")).toEqual(["'self'"]);
      expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
      for (const [name, values] of csp) expect(values.filter((v) => /^(https?:|\*|'unsafe-eval')/.test(v)), name).toEqual([]);
    });
  }

  it("loads its UI from this host and configures it without an inline script", async () => {
    const html = await (await call(BASE, "/docs")).text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)].map(([, attrs, body]) => ({ attrs: attrs!, body: body! }));
    expect(scripts.map((s) => s.body.trim())).toEqual(["", ""]);
    expect(scripts[1]!.attrs).toContain(`src="${REFERENCE_SCRIPT_PATH}"`);
    expect(html).not.toMatch(/https?:\/\//);
    // The configuration is JSON in a data attribute of a non-executable script element.
    const config = scripts[0]!.attrs;
    expect(config).toContain('type="application/json"');
    expect(config).toContain('data-url="/openapi.json"');
    const json = JSON.parse(/data-configuration="([^"]*)"/.exec(config)![1]!.replaceAll("&quot;", '"').replaceAll("&amp;", "&"));
    // No remote fonts, telemetry or AI calls: the page must work offline.
    expect(json).toMatchObject({ withDefaultFonts: false, telemetry: false, agent: { disabled: true } });
  });

  it("gives the UI's script nosniff through public/_headers, for the path the page names", () => {
    const rule = /^(\/\S+)\n((?:[ \t]+.*\n?)+)/m.exec(headersFile);
    expect(rule, headersFile).not.toBeNull();
    const pattern = new RegExp(`^${rule![1]!.replace(/[.]/g, "\\.").replace(/\*/g, ".*")}$`);
    expect(REFERENCE_SCRIPT_PATH).toMatch(pattern);
    expect(rule![2]).toMatch(/X-Content-Type-Options: nosniff/);
  });

  it("is a 405 for other methods", async () => {
    const res = await call(BASE, "/docs", { method: "POST", body: {} });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toContain("GET");
  });
});
