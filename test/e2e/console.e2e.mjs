// End-to-end: the admin console in Chromium (run by test/e2e/run.mjs against its dev server).
// Flows: sign in by link, create a token and read its secret once, define a required attribute and
// see a user creation fail for lack of it, find a user by filter, deactivate and reactivate them, connect an identity provider, sign out and be refused; axe-core on every page
// (no serious or critical violation); no horizontal scrolling at 375 px; no CSP violation.
import assert from "node:assert/strict";
import { seriousViolations } from "./browser.mjs";
import { httpRequest } from "./dev-server.mjs";

export async function consoleSuite({ server, browser, step }) {
  const checked = new Set();
  async function axe(page, label) {
    const problems = await seriousViolations(page);
    assert.deepEqual(problems, [], `axe on ${label} (${page.url()})`);
    checked.add(new URL(page.url()).pathname.replace(/[0-9a-f-]{36}/, ":id"));
  }

  const slug = `e2e${Date.now().toString(36)}`;
  const origin = `http://${slug}.localhost:${server.port}`;
  let link;
  await step("create a tenant and a sign-in link (platform API)", async () => {
    const tenant = await server.platform("POST", "/platform/tenants", { slug, name: "E2E Corp" });
    assert.equal(tenant.status, 201, JSON.stringify(tenant.json));
    const res = await server.platform("POST", `/platform/tenants/${slug}/console-links`);
    assert.equal(res.status, 201, JSON.stringify(res.json));
    link = res.json.url;
    assert.ok(link.startsWith(`${origin}/console/link?secret=`), link);
  });

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  const cspViolations = [];
  page.on("console", (m) => /Content Security Policy/i.test(m.text()) && cspViolations.push(m.text()));

  await step("sign in by link; the secret leaves the URL", async () => {
    await page.goto(link);
    await axe(page, "link page");
    await page.getByRole("button", { name: "Continue to the console" }).click();
    await page.waitForURL(`${origin}/console/users`);
    assert.ok(!page.url().includes("secret"));
    await page.getByRole("heading", { name: "Users", level: 1 }).waitFor();
    await axe(page, "users");
    // The link was single-use: a second browser using it is refused.
    const again = await browser.newPage();
    await again.goto(link);
    await again.getByRole("button", { name: "Continue to the console" }).click();
    await again.getByText("already used").waitFor();
    await again.close();
  });

  await step("keyboard: the first Tab reaches the skip link", async () => {
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
  });

  let secret;
  await step("create an API token and read its secret once", async () => {
    await page.getByRole("link", { name: "API tokens" }).click();
    await page.getByLabel("Name (required)").fill("Payroll sync");
    await page.getByRole("checkbox", { name: /^users:read/ }).check();
    await page.getByRole("button", { name: "Create token" }).click();
    secret = await page.locator("#new-token").inputValue();
    assert.match(secret, /^prov_[0-9A-Za-z]{42}$/);
    await page.getByRole("button", { name: "Copy" }).waitFor();
    await axe(page, "token created");
    const api = await httpRequest(server.port, `${slug}.localhost`, "GET", "/v1/users", { headers: { Authorization: `Bearer ${secret}` } });
    assert.equal(api.status, 200);
    await page.goto(`${origin}/console/tokens`);
    assert.ok(!(await page.content()).includes(secret), "the secret is shown only once");
    await page.getByRole("cell", { name: "Payroll sync", exact: true }).waitFor();
    await axe(page, "tokens");
  });

  await step("define a required attribute; a user without it is refused", async () => {
    await page.getByRole("link", { name: "Attributes" }).click();
    await page.getByLabel("Key (required)").fill("badgeNumber");
    await page.getByLabel("Label").fill("Badge number");
    await page.getByLabel("Required for every user").check();
    await page.getByRole("button", { name: "Define attribute" }).click();
    await page.getByText("Attribute defined.").waitFor();
    await axe(page, "attributes");
    await page.goto(`${origin}/console/users/new`);
    await page.getByLabel("First name (required)").fill("Ada");
    await page.getByLabel("Last name (required)").fill("Lovelace");
    await page.getByLabel("Email (required)").fill("ada@example.com");
    await page.getByLabel("External ID (required)").fill("E2E-1");
    await page.getByLabel("Department").fill("Engines");
    await page.getByRole("button", { name: "Create user" }).click();
    const error = page.locator("#f-attributes-badgeNumber-error");
    await error.waitFor();
    assert.match(await error.textContent(), /required/i);
    assert.equal(await page.getByLabel("Badge number (required)").getAttribute("aria-invalid"), "true");
    await axe(page, "user creation refused");
    await page.getByLabel("Badge number (required)").fill("B-1815");
    await page.getByRole("button", { name: "Create user" }).click();
    await page.getByText("User created.").waitFor();
  });

  await step("find the user by filter; deactivate and reactivate", async () => {
    await page.getByRole("link", { name: "Users", exact: true }).click();
    await page.getByLabel("Filter").fill('department eq "Engines" and attributes.badgeNumber sw "B-18"');
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("cell", { name: "ada@example.com" }).waitFor();
    await axe(page, "users filtered");
    await page.getByRole("link", { name: "Ada Lovelace" }).click();
    await page.getByRole("heading", { name: "Ada Lovelace" }).waitFor();
    await axe(page, "user");
    await page.getByRole("button", { name: "Deactivate" }).click();
    await page.getByText("User deactivated.").waitFor();
    assert.equal(await page.locator(".badge").first().textContent(), "inactive");
    await page.getByRole("button", { name: "Reactivate" }).click();
    await page.getByText("User reactivated.").waitFor();
    assert.equal(await page.locator(".badge").first().textContent(), "active");
  });

  await step("connect an identity provider (Entra)", async () => {
    await page.getByRole("link", { name: "Connect an identity provider" }).click();
    await axe(page, "connect");
    await page.getByRole("radio", { name: "Microsoft Entra ID" }).check();
    await page.getByRole("button", { name: "Create SCIM token" }).click();
    await page.getByText("SCIM token for Microsoft Entra ID created.").waitFor();
    assert.equal(await page.locator("#scim-base-url").inputValue(), `${origin}/scim/v2`);
    const token = await page.locator("#scim-token").inputValue();
    const scim = await httpRequest(server.port, `${slug}.localhost`, "GET", "/scim/v2/Users?filter=userName%20eq%20%22ada%40example.com%22", { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(scim.status, 200);
    assert.equal(JSON.parse(scim.body).totalResults, 1);
    await axe(page, "connect result");
  });

  await step("axe on the remaining pages", async () => {
    for (const p of ["roles", "identity-providers", "collections", "events", "events?status=failed", "rate-limits"]) {
      await page.goto(`${origin}/console/${p}`);
      await page.locator("h1").waitFor();
      await axe(page, p);
    }
  });

  await step("the layout holds at 375 px", async () => {
    const narrow = await context.newPage();
    await narrow.setViewportSize({ width: 375, height: 800 });
    for (const p of ["users", "tokens", "attributes", "connect", "events", "users/new"]) {
      await narrow.goto(`${origin}/console/${p}`);
      const width = await narrow.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 375, `${p} is ${width}px wide at 375px`);
      if (p === "users") await axe(narrow, "users at 375px");
    }
    await narrow.close();
  });

  await step("sign out, then be refused", async () => {
    const cookie = (await context.cookies(origin)).find((c) => c.name === "console_session");
    assert.ok(cookie?.httpOnly && cookie.sameSite === "Strict", "HttpOnly, SameSite=Strict cookie");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You are signed out.").waitFor();
    await axe(page, "sign-in");
    await page.goto(`${origin}/console/users`);
    await page.waitForURL(`${origin}/console/sign-in`);
    const replay = await httpRequest(server.port, `${slug}.localhost`, "GET", "/console/users", { headers: { Cookie: `console_session=${cookie.value}` } });
    assert.equal(replay.status, 303, "the old cookie is refused");
  });

  await step("no CSP violation; axe-core clean on every page", async () => {
    assert.deepEqual(cspViolations, [], "no Content Security Policy violations");
    await context.close();
    return `${checked.size} pages: ${[...checked].sort().join(", ")}`;
  });
}
