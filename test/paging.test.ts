/**
 * One page shape on every list (src/http/paging.ts): `pagination.hasMore` and `nextCursor`, and a
 * `Link: <...>; rel="next"` header exactly when there is a next page. Following the links walks the
 * whole list with no duplicates and no gaps, and keeps the request's other query parameters.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { BASE, call, createTenant, createUser, newUser, PLATFORM_TOKEN, type TestTenant } from "./helpers";

interface Page {
  data: Record<string, any>[];
  pagination: { limit: number; hasMore: boolean; nextCursor: string | null };
}

/** The target of a `Link: <...>; rel="next"` header, or null. */
function nextLink(res: Response): string | null {
  const link = res.headers.get("Link");
  if (link === null) return null;
  const m = /^<([^>]+)>;\s*rel="next"$/.exec(link);
  expect(m, link).not.toBeNull();
  return m![1]!;
}

/** Walks a list by its Link headers; checks the page shape and the Link rule on each page. */
async function walk(host: string, token: string, first: string, key = (x: Record<string, any>) => String(x.id)) {
  const seen: string[] = [];
  const urls: string[] = [];
  let url: string | null = first;
  for (let pages = 0; url !== null; pages++) {
    expect(pages, "too many pages").toBeLessThan(50);
    urls.push(url);
    const res = await call(host, url, { token });
    expect(res.status, await res.clone().text()).toBe(200);
    const page = (await res.json()) as Page;
    expect(typeof page.pagination.hasMore).toBe("boolean");
    const next = nextLink(res);
    // Link is present exactly when there is a next page, and names it by its cursor.
    expect(next !== null).toBe(page.pagination.hasMore);
    if (next !== null) expect(new URL(next, "https://x").searchParams.get(new URL(next, "https://x").searchParams.has("after") ? "after" : "cursor")).toBe(page.pagination.nextCursor);
    seen.push(...page.data.map(key));
    url = next;
  }
  expect(new Set(seen).size, "no duplicates").toBe(seen.length);
  return { seen, urls };
}

async function all(host: string, token: string, path: string, key = (x: Record<string, any>) => String(x.id)): Promise<string[]> {
  const res = await call(host, path, { token });
  expect(res.status).toBe(200);
  const page = (await res.json()) as Page;
  expect(page.pagination.hasMore).toBe(false);
  expect(res.headers.get("Link")).toBeNull();
  return page.data.map(key);
}

let t: TestTenant;
let groupId: string;

beforeAll(async () => {
  t = await createTenant();
  for (let i = 0; i < 5; i++) await createUser(t, { department: i % 2 === 0 ? "Even" : "Odd" });
  const g = await t.call("/v1/groups", { body: { name: "Paged" } });
  groupId = ((await g.json()) as { id: string }).id;
  const members = await t.call("/v1/users?limit=5");
  const ids = ((await members.json()) as Page).data.map((u) => u.id);
  await t.call(`/v1/groups/${groupId}/members`, { body: { userIds: ids } });
  for (let i = 0; i < 4; i++) await t.call("/v1/groups", { body: { name: `G${i}` } });
  for (let i = 0; i < 4; i++) await t.call("/v1/api-tokens", { body: { name: `tok${i}`, scopes: ["users:read"] } });
  await t.call("/v1/invitations", { body: { users: [newUser(), newUser(), newUser()] } });
});

describe("cursor-paged lists: Link walks every page, with no duplicates or gaps", () => {
  const cases: [string, string, string][] = [
    ["users", "/v1/users?limit=2", "/v1/users?limit=1000"],
    ["users, filtered (the filter is kept)", "/v1/users?limit=1&filter=department%20eq%20%22Even%22", "/v1/users?limit=1000&filter=department%20eq%20%22Even%22"],
    ["groups", "/v1/groups?limit=2", "/v1/groups?limit=1000"],
    ["api tokens", "/v1/api-tokens?limit=2", "/v1/api-tokens?limit=1000"],
    ["invitations", "/v1/invitations?limit=2&status=pending", "/v1/invitations?limit=1000&status=pending"],
    ["events (cursor in `after`)", "/v1/events?limit=3&types=user.created", "/v1/events?limit=1000&types=user.created"],
    ["audit log (cursor in `after`)", "/v1/audit-log?limit=3&types=user.created", "/v1/audit-log?limit=500&types=user.created"],
  ];
  for (const [name, first, whole] of cases) {
    it(name, async () => {
      const { seen, urls } = await walk(t.host, t.token, first);
      expect(seen).toEqual(await all(t.host, t.token, whole));
      expect(urls.length).toBeGreaterThan(1);
      // Every followed link keeps the first request's other parameters.
      const params = [...new URL(first, "https://x").searchParams].filter(([k]) => k !== "cursor" && k !== "after");
      for (const u of urls) for (const [k, v] of params) expect(new URL(u, "https://x").searchParams.get(k), u).toBe(v);
    });
  }

  it("collection members", async () => {
    const { seen } = await walk(t.host, t.token, `/v1/groups/${groupId}/members?limit=2`, (m) => String(m.userId ?? m.id));
    expect(seen.length).toBe(5);
  });

  it("offset paging: Link names the next page number", async () => {
    const { seen, urls } = await walk(t.host, t.token, "/v1/users?page=1&pageSize=2");
    expect(seen).toEqual(await all(t.host, t.token, "/v1/users?limit=1000"));
    expect(new URL(urls[1]!, "https://x").searchParams.get("page")).toBe("2");
  });

  it("platform tenants", async () => {
    await createTenant();
    const { seen } = await walk(BASE, PLATFORM_TOKEN, "/platform/tenants?limit=2", (x) => String(x.slug));
    expect(seen).toContain(t.slug);
  });

  it("the feeds keep a cursor on their last page to poll from, without a Link", async () => {
    const res = await t.call("/v1/events?limit=1000");
    const page = (await res.json()) as Page;
    expect(page.pagination.hasMore).toBe(false);
    expect(page.pagination.nextCursor).toEqual(expect.any(String));
    expect(res.headers.get("Link")).toBeNull();
  });
});

describe("POST /v1/users/search and XML", () => {
  it("search pages by `cursor` in the body; it sends no Link, since a link can only name a GET", async () => {
    const res = await t.call("/v1/users/search", { body: { limit: 2 } });
    const page = (await res.json()) as Page;
    expect(page.pagination).toMatchObject({ limit: 2, hasMore: true, nextCursor: expect.any(String) });
    expect(res.headers.get("Link")).toBeNull();
    const next = await t.call("/v1/users/search", { body: { limit: 2, cursor: page.pagination.nextCursor } });
    const ids = ((await next.json()) as Page).data.map((u) => u.id);
    expect(ids.some((id) => page.data.some((u) => u.id === id))).toBe(false);
  });

  it("XML pages carry hasMore and nextCursor, and the Link keeps format=xml", async () => {
    const res = await t.call("/v1/users?limit=2&format=xml");
    expect(res.status).toBe(200);
    const xml = await res.text();
    expect(xml).toMatch(/<pagination><limit type="number">2<\/limit><hasMore type="boolean">true<\/hasMore><nextCursor>[A-Za-z0-9_-]+<\/nextCursor><\/pagination>/);
    const link = nextLink(res)!;
    expect(new URL(link, "https://x").searchParams.get("format")).toBe("xml");
    const last = await t.call("/v1/users?limit=1000&format=xml");
    expect(await last.text()).toContain('<hasMore type="boolean">false</hasMore><nextCursor nil="true"/>');
  });
});

describe("bounded lists answer the same shape, whole", () => {
  it("roles, identity providers, attributes, webhooks, devices: hasMore false, nextCursor null, no Link", async () => {
    const user = await createUser(t);
    await t.call(`/v1/users/${user.id}/devices`, { body: { platform: "ios" } });
    for (const path of ["/v1/roles", "/v1/identity-providers", "/v1/available-attributes", "/v1/webhooks", `/v1/users/${user.id}/devices`]) {
      const res = await t.call(path);
      expect(res.status, path).toBe(200);
      const page = (await res.json()) as Page;
      expect(page.pagination, path).toEqual({ limit: page.data.length, hasMore: false, nextCursor: null });
      expect(res.headers.get("Link"), path).toBeNull();
    }
    for (const path of ["/platform/shards", "/platform/blocks"]) {
      const res = await call(BASE, path, { token: PLATFORM_TOKEN });
      expect(res.status, path).toBe(200);
      expect(((await res.json()) as Page).pagination, path).toMatchObject({ hasMore: false, nextCursor: null });
    }
  });
});
