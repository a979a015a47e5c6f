// `npm run test:e2e [-- docs client console]`: every end-to-end suite against ONE `npm run dev`
// (free port, throwaway state) and ONE Chromium, since starting wrangler is most of the cost.
// One line per step, each with its own timeout; a failed step ends its suite (later steps build
// on it), the other suites still run, and the exit code is 1 with the dev server's output tail.
import { launchBrowser } from "./browser.mjs";
import { clientSuite } from "./client.e2e.mjs";
import { consoleSuite } from "./console.e2e.mjs";
import { startDevServer } from "./dev-server.mjs";
import { docsSuite } from "./docs.e2e.mjs";

const SUITES = { docs: docsSuite, client: clientSuite, console: consoleSuite };
const STEP_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 240_000;

const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !(name in SUITES));
if (unknown.length) {
  console.error(`e2e: unknown suite ${unknown.join(", ")}; choose from ${Object.keys(SUITES).join(", ")}`);
  process.exit(2);
}
const names = chosen.length ? chosen : Object.keys(SUITES);

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs one step; a string it returns is printed after the step's name. */
function stepper(suite) {
  return async (name, fn, timeoutMs = STEP_TIMEOUT_MS) => {
    const t0 = Date.now();
    try {
      const note = await withTimeout(Promise.resolve().then(fn), timeoutMs, "step");
      console.log(`  ✓ ${suite}: ${name} (${Date.now() - t0} ms)${typeof note === "string" ? `: ${note}` : ""}`);
    } catch (err) {
      console.log(`  ✗ ${suite}: ${name} (${Date.now() - t0} ms)`);
      err.message = `${suite}: ${name}: ${err.message}`;
      throw err;
    }
  };
}

const started = Date.now();
let server;
let browser;
const failed = [];
try {
  const t0 = Date.now();
  // Chromium starts while wrangler does: on a busy machine both take a while.
  const launching = launchBrowser();
  launching.catch(() => {});
  try {
    const start = () => withTimeout(startDevServer({ readyTimeoutMs: START_TIMEOUT_MS - 10_000 }), START_TIMEOUT_MS, "dev server start");
    // The free port can be taken by someone else between finding it and wrangler binding it.
    server = await start().catch((err) => (/Address already in use/.test(err.message) ? start() : Promise.reject(err)));
    browser = await launching;
  } catch (err) {
    await (await launching.catch(() => null))?.close().catch(() => {});
    throw err;
  }
  console.log(`  ✓ e2e: dev server on port ${server.port} and Chromium started (${Date.now() - t0} ms)`);
  for (const name of names) {
    try {
      await SUITES[name]({ server, browser, step: stepper(name) });
    } catch (err) {
      failed.push(name);
      console.error(`e2e ${name} FAILED: ${err.stack ?? err}`);
    }
  }
} catch (err) {
  failed.push("start");
  console.error(`e2e FAILED: ${err.stack ?? err}`);
} finally {
  await browser?.close().catch(() => {});
  if (failed.length && server) console.error(`--- dev server output (tail) ---\n${server.output().slice(-3000)}`);
  await server?.stop();
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failed.length) {
  console.error(`e2e: FAILED (${failed.join(", ")}) in ${seconds} s`);
  process.exitCode = 1;
} else console.log(`e2e: ${names.join(", ")} passed in ${seconds} s`);
