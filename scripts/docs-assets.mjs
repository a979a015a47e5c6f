#!/usr/bin/env node
// Fills public/docs/assets/ (git-ignored) with the API reference UI's script, copied from the
// pinned @scalar/api-reference package, so /docs needs no CDN and works offline. wrangler.toml's
// [assets] serves the directory; `npm run dev`, `npm run build`, `npm run deploy` and the vitest
// config run this first. Idempotent and cheap: the file is only rewritten when it changed.
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(import.meta.dirname, "..");
const pkgDir = path.join(root, "node_modules", "@scalar", "api-reference");
// The single-file (UMD) build: one request, no lazily imported chunks, and it reads its
// configuration from data attributes, so the page needs no inline script (src/docs/reference.ts).
const SOURCE = path.join(pkgDir, "dist", "browser", "standalone.js");
export const DOCS_ASSETS_DIR = path.join(root, "public", "docs", "assets");
export const SCALAR_TARGET = path.join(DOCS_ASSETS_DIR, "scalar-api-reference.js");

export function prepareDocsAssets() {
  if (!existsSync(SOURCE)) {
    throw new Error(`docs assets: ${path.relative(root, SOURCE)} is missing. Run \`npm ci\` (it installs @scalar/api-reference, pinned in package.json).`);
  }
  const wanted = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).devDependencies["@scalar/api-reference"];
  const installed = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
  if (wanted !== installed) {
    throw new Error(`docs assets: package.json pins @scalar/api-reference ${wanted} but ${installed} is installed. Run \`npm ci\`.`);
  }
  mkdirSync(DOCS_ASSETS_DIR, { recursive: true });
  const same = existsSync(SCALAR_TARGET) && statSync(SCALAR_TARGET).size === statSync(SOURCE).size && readFileSync(SCALAR_TARGET).equals(readFileSync(SOURCE));
  if (!same) copyFileSync(SOURCE, SCALAR_TARGET);
  return { version: installed, file: path.relative(root, SCALAR_TARGET) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    prepareDocsAssets();
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
