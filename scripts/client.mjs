#!/usr/bin/env node
// `npm run client:generate`: writes the typed client's types (clients/typescript/src/schema.ts)
// from the committed OpenAPI document (openapi/openapi.json) with openapi-typescript.
// `npm run client:check` (part of `npm test`): fails when the committed file differs from what the
// generator makes now, i.e. the document changed and nobody regenerated the client.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";

const root = path.resolve(import.meta.dirname, "..");
const DOCUMENT = "openapi/openapi.json";
const TARGET = "clients/typescript/src/schema.ts";
const mode = process.argv[2];
if (mode !== "generate" && mode !== "check") {
  console.error("usage: node scripts/client.mjs generate|check");
  process.exit(2);
}

const ast = await openapiTS(pathToFileURL(path.join(root, DOCUMENT)), { silent: true });
const generated = `// Generated from ${DOCUMENT} by \`npm run client:generate\`; \`npm run client:check\` fails when it drifts.\n${COMMENT_HEADER}${astToString(ast)}`;
const file = path.join(root, TARGET);

if (mode === "generate") {
  writeFileSync(file, generated);
  console.log(`client: wrote ${TARGET} from ${DOCUMENT}`);
} else {
  let committed = "";
  try {
    committed = readFileSync(file, "utf8");
  } catch {}
  if (committed !== generated) {
    const a = committed.split("\n");
    const b = generated.split("\n");
    const line = a.findIndex((l, i) => l !== b[i]);
    console.error(`client check: ${TARGET} is out of date with ${DOCUMENT} (first difference at line ${line + 1}: committed ${JSON.stringify(a[line] ?? "<end>")}, generated ${JSON.stringify(b[line] ?? "<end>")}). Run \`npm run client:generate\` and commit the result.`);
    process.exit(1);
  }
  console.log(`client check: ${TARGET} matches ${DOCUMENT}`);
}
