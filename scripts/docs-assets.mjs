#!/usr/bin/env node
// Copies the API reference UI's standalone script from the npm package into public/docs/, which
// the Worker serves as a static asset (wrangler.toml [assets]): /docs then works offline and
// behind firewalls, with the version the lockfile pins. Run by `npm run dev`, the test config,
// `npm run build` and `npm run deploy`; the copy is git-ignored.
import { copyFileSync, existsSync, mkdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DOCS_SCRIPT_PATH = "/docs/scalar-api-reference.js";

export function copyDocsAssets() {
  const require = createRequire(path.join(root, "package.json"));
  const source = path.join(path.dirname(require.resolve("@scalar/api-reference/package.json")), "dist", "browser", "standalone.js");
  const target = path.join(root, "public", DOCS_SCRIPT_PATH);
  mkdirSync(path.dirname(target), { recursive: true });
  if (!existsSync(target) || statSync(target).mtimeMs < statSync(source).mtimeMs || statSync(target).size !== statSync(source).size) copyFileSync(source, target);
  return target;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) copyDocsAssets();
