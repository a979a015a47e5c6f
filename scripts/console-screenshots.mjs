#!/usr/bin/env node
// `npm run screenshots`: starts the dev server with throwaway state, seeds a demo tenant through
// the public APIs, signs in to the console by link and saves the main pages to docs/console/*.png.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { launchBrowser } from "../test/e2e/browser.mjs";
import { httpRequest, startDevServer } from "../test/e2e/dev-server.mjs";

const out = path.resolve(import.meta.dirname, "..", "docs", "console");
mkdirSync(out, { recursive: true });
const server = await startDevServer({ readyTimeoutMs: 150_000 });
const browser = await launchBrowser();
try {
  const slug = "acme";
  const created = await server.platform("POST", "/platform/tenants", { slug, name: "Acme Corp" });
  const token = created.json.token;
  const api = (method, p, body) =>
    httpRequest(server.port, `${slug}.localhost`, method, p, { headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: body && JSON.stringify(body) });
  await api("POST", "/v1/available-attributes", { key: "badgeNumber", label: "Badge number", type: "string", required: true });
  const people = [["Ada", "Lovelace", "Engineering"], ["Grace", "Hopper", "Engineering"], ["Alan", "Turing", "Research"], ["Katherine", "Johnson", "Research"], ["Edsger", "Dijkstra", "Engineering"]];
  for (const [i, [firstName, lastName, department]] of people.entries()) {
    await api("POST", "/v1/users", { firstName, lastName, email: `${firstName.toLowerCase()}@acme.example`, externalId: `HR-${1000 + i}`, department, attributes: { badgeNumber: `B-${200 + i}` } });
  }
  await api("POST", "/v1/groups", { name: "Engineering", rule: 'department eq "Engineering"' });
  await api("POST", "/v1/api-tokens", { name: "Workday sync", scopes: ["users:read", "users:write"] });
  const link = (await server.platform("POST", `/platform/tenants/${slug}/console-links`)).json.url;
  const origin = new URL(link).origin;

  const page = await browser.newPage({ viewport: { width: 1200, height: 820 } });
  await page.goto(link);
  await page.getByRole("button", { name: "Continue to the console" }).click();
  await page.waitForURL(`${origin}/console/users`);
  const shot = async (name) => page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
  await shot("users");
  await page.getByRole("link", { name: "Ada Lovelace" }).click();
  await page.getByRole("heading", { name: "Ada Lovelace" }).waitFor();
  await shot("user");
  await page.goto(`${origin}/console/users/new`);
  await page.getByLabel("First name (required)").fill("Barbara");
  await page.getByLabel("Last name (required)").fill("Liskov");
  await page.getByLabel("Email (required)").fill("barbara@acme.example");
  await page.getByLabel("External ID (required)").fill("HR-2000");
  await page.getByRole("button", { name: "Create user" }).click();
  await page.locator("#f-attributes-badgeNumber-error").waitFor();
  await shot("user-create-error");
  await page.goto(`${origin}/console/tokens`);
  await page.getByLabel("Name (required)").fill("Okta group push");
  await page.getByRole("checkbox", { name: /^users:read/ }).check();
  await page.getByRole("button", { name: "Create token" }).click();
  await page.locator("#new-token").waitFor();
  await shot("tokens");
  await page.goto(`${origin}/console/attributes`);
  await shot("attributes");
  await page.goto(`${origin}/console/connect`);
  await page.getByRole("button", { name: "Create SCIM token" }).click();
  await page.locator("#scim-token").waitFor();
  await shot("connect");
  await page.goto(`${origin}/console/events`);
  await shot("events");
  const narrow = await browser.newPage({ viewport: { width: 375, height: 740 } });
  await narrow.context().addCookies(await page.context().cookies());
  await narrow.goto(`${origin}/console/users`);
  await narrow.screenshot({ path: path.join(out, "users-375px.png"), fullPage: true });
  console.log(`Screenshots written to ${out}`);
} finally {
  await browser.close();
  await server.stop();
}
