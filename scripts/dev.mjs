#!/usr/bin/env node
// `npm run dev [-- <wrangler dev args>]`: prepares local state, prints how to reach the API,
// then runs `wrangler dev` with the given arguments. Runs on the project's pinned Node (npm puts
// node_modules/.bin first on PATH), because wrangler needs Node >= 22.12.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { prepareDocsAssets } from "./docs-assets.mjs";

const root = path.resolve(import.meta.dirname, "..");
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const args = process.argv.slice(2);

// 1. A local platform admin secret, generated once and kept in .dev.vars (git-ignored).
const devVars = path.join(root, ".dev.vars");
let vars = existsSync(devVars) ? readFileSync(devVars, "utf8") : "";
if (!/^PLATFORM_ADMIN_TOKEN=/m.test(vars)) {
  vars += `${vars && !vars.endsWith("\n") ? "\n" : ""}PLATFORM_ADMIN_TOKEN=dev-${randomBytes(18).toString("base64url")}\n`;
  writeFileSync(devVars, vars);
  console.log("Created .dev.vars with a local PLATFORM_ADMIN_TOKEN.");
}
// Webhooks: a local key for signing secrets at rest, and delivery to receivers on this machine.
if (!/^WEBHOOK_SECRET_KEY=/m.test(vars)) {
  vars += `${vars && !vars.endsWith("\n") ? "\n" : ""}WEBHOOK_SECRET_KEY=${randomBytes(32).toString("base64")}\n`;
  writeFileSync(devVars, vars);
}
if (!/^WEBHOOK_ALLOW_LOCAL_URLS=/m.test(vars)) {
  vars += `${vars && !vars.endsWith("\n") ? "\n" : ""}WEBHOOK_ALLOW_LOCAL_URLS=true\n`;
  writeFileSync(devVars, vars);
}
const platformToken = /^PLATFORM_ADMIN_TOKEN=(.*)$/m.exec(vars)[1].trim();

// 2. The /docs UI's script, copied from node_modules into the static assets (git-ignored).
prepareDocsAssets();

// 3. Local D1 migrations (idempotent) on EVERY database: the platform database (DB, also the
// first shard) and each further shard named in wrangler.toml's SHARDS. With --persist-to (e.g. the
// browser tests' throwaway state) the migrations go to the same place.
const persistArg = args.findIndex((a) => a === "--persist-to" || a.startsWith("--persist-to="));
const persist = persistArg === -1 ? [] : args[persistArg].includes("=") ? [args[persistArg]] : ["--persist-to", args[persistArg + 1]];
const toml = readFileSync(path.join(root, "wrangler.toml"), "utf8");
const shardsLine = /^SHARDS\s*=\s*'(.*)'\s*$/m.exec(toml);
const bindings = new Set(["DB", ...(shardsLine ? JSON.parse(shardsLine[1]).map((s) => s.binding) : [])]);
for (const binding of bindings) {
  const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", binding, "--local", ...persist], { cwd: root, stdio: "inherit", env: { ...process.env, CI: "true" } });
  if (migrate.status !== 0) process.exit(migrate.status ?? 1);
}

// 4. How to reach it.
const portArg = args.findIndex((a) => a === "--port" || a.startsWith("--port="));
const port = portArg === -1 ? "8787" : args[portArg].includes("=") ? args[portArg].split("=")[1] : args[portArg + 1];
const base = `http://localhost:${port}`;
console.log(`
  Provisioning API (local)
  ------------------------
  Platform API : ${base}/platform   (Authorization: Bearer ${platformToken})
  Tenant API   : http://<slug>.localhost:${port}/v1   (e.g. http://acme.localhost:${port}/v1/users)
  API reference: ${base}/docs   OpenAPI: ${base}/openapi.json

  Create a tenant and get its first admin token:
    curl -s -X POST ${base}/platform/tenants \\
      -H 'Authorization: Bearer ${platformToken}' -H 'Content-Type: application/json' \\
      -d '{"slug":"acme","name":"Acme Corp"}'

  Shards: ${[...bindings].join(", ")} (GET ${base}/platform/shards). Place a tenant in the EU with
      -d '{"slug":"eu-co","name":"EU Co","dataRegion":"eu"}'
`);

// 5. wrangler dev, with every extra argument passed through.
const child = spawn(wrangler, ["dev", ...args], { cwd: root, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
