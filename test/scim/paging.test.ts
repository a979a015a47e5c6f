/** SCIM startIndex paging over large tenants: keyset continuation and count reuse stay exact. */
import { beforeAll, describe, expect, it } from "vitest";
import { anchorFor, cachedCount, forgetPagingHints, rememberCount } from "../../src/scim/paging";
import { createTenant, newUser, type TestTenant } from "../helpers";
import { scim, scimBody } from "./helpers";

let t: TestTenant;
beforeAll(async () => {
  t = await createTenant();
  for (let i = 0; i < 9; i++) expect((await t.call("/v1/users", { body: newUser() })).status).toBe(201);
});

const ids = async (path: string) => ((await scimBody(await scim(t, path))).Resources as Array<{ id: string }>).map((r) => r.id);

describe("startIndex paging hints", () => {
  it("continues a sequential walk by keyset and returns exactly what the offset would", async () => {
    forgetPagingHints();
    const everyone = await ids("/Users?count=100");
    expect(everyone).toHaveLength(9);
    forgetPagingHints();
    const walked: string[] = [];
    for (let start = 1; start <= 9; start += 3) {
      if (start > 1) expect(anchorFor(t.id, start), `anchor for ${start}`).toBeDefined();
      walked.push(...(await ids(`/Users?startIndex=${start}&count=3`)));
    }
    expect(walked).toEqual(everyone);
  });

  it("a user created during the walk is neither skipped nor repeated", async () => {
    forgetPagingHints();
    const first = await ids("/Users?startIndex=1&count=4");
    const late = (await (await t.call("/v1/users", { body: newUser() })).json()) as { id: string };
    const rest = [...(await ids("/Users?startIndex=5&count=4")), ...(await ids("/Users?startIndex=9&count=4"))];
    const all = [...first, ...rest];
    expect(new Set(all).size).toBe(all.length);
    expect(all).toContain(late.id);
    expect(all).toHaveLength(10);
  });

  it("never serves a cached count to small tenants or to filtered lists", async () => {
    forgetPagingHints();
    const before = (await scimBody(await scim(t, "/Users?count=1"))).totalResults as number;
    expect(cachedCount(t.id)).toBeUndefined();
    await t.call("/v1/users", { body: newUser() });
    expect((await scimBody(await scim(t, "/Users?count=1"))).totalResults).toBe(before + 1);
    // Even with a (forced) cached count, a filtered list counts for real.
    rememberCount(t.id, 50_000);
    expect((await scimBody(await scim(t, "/Users?count=1"))).totalResults).toBe(50_000);
    const filtered = await scimBody(await scim(t, `/Users?filter=${encodeURIComponent('userName eq "nobody@nowhere.example"')}`));
    expect(filtered.totalResults).toBe(0);
    forgetPagingHints();
  });
});
