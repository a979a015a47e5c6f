/**
 * Which methods a path allows, for 405 answers, `Allow` headers and OPTIONS. Only the most
 * specific route pattern counts: `/v1/users/search` is its own resource (POST), so a PATCH there
 * is a 405 naming POST, not a PATCH of a user with the id "search".
 */
import type { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "./errors";

interface Pattern {
  regex: RegExp;
  /** Per segment: 1 for a literal, 0 for a parameter; compared left to right. */
  score: number[];
  methods: Set<string>;
}

function compile(routes: Hono["routes"]): Pattern[] {
  const byPath = new Map<string, Pattern>();
  for (const route of routes) {
    if (route.method === "ALL" || route.path.includes("*")) continue;
    let pattern = byPath.get(route.path);
    if (!pattern) {
      const segments = route.path.split("/").filter(Boolean);
      pattern = {
        regex: new RegExp(`^${route.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[^/]+/g, "[^/]+")}/?$`),
        score: segments.map((s) => (s.startsWith(":") ? 0 : 1)),
        methods: new Set(),
      };
      byPath.set(route.path, pattern);
    }
    pattern.methods.add(route.method);
  }
  return [...byPath.values()];
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** Allowed methods for `path` (HEAD with GET; OPTIONS where methodGuard answers it), or [] when no route matches it. */
export function allowedMethods(patterns: Pattern[], path: string, options = true): string[] {
  let best: Pattern[] = [];
  for (const p of patterns) {
    if (!p.regex.test(path)) continue;
    const order = best.length === 0 ? 1 : compare(p.score, best[0]!.score);
    if (order > 0) best = [p];
    else if (order === 0) best.push(p);
  }
  const methods = new Set(best.flatMap((p) => [...p.methods]));
  if (methods.size === 0) return [];
  if (methods.has("GET")) methods.add("HEAD");
  if (options) methods.add("OPTIONS");
  return [...methods].sort();
}

/**
 * Answers OPTIONS (204 with `Allow`) and refuses a method the path's most specific route does not
 * have (405 with `Allow`) before any body is read. Routes are compiled on first use, after the app
 * has registered them all.
 */
export function methodGuard(app: Hono<AppEnv>) {
  let patterns: Pattern[] | undefined;
  return createMiddleware<AppEnv>(async (c, next) => {
    patterns ??= compile(app.routes);
    const allowed = allowedMethods(patterns, new URL(c.req.url).pathname);
    if (allowed.length === 0) return next();
    if (c.req.method === "OPTIONS") return c.body(null, 204, { Allow: allowed.join(", ") });
    if (!allowed.includes(c.req.method)) {
      throw new ApiError("method_not_allowed", `${c.req.method} is not supported here; use ${allowed.join(", ")}.`, { headers: { Allow: allowed.join(", ") } });
    }
    await next();
  });
}

/** For the 404 fallback (paths methodGuard does not cover, such as SCIM): no OPTIONS there. */
export function allowedMethodsOf(app: Hono<AppEnv>, path: string): string[] {
  return allowedMethods(compile(app.routes), path, false);
}
