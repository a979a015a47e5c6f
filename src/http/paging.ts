/**
 * One page shape for every list (REST /v1 and /platform): `pagination: {limit, hasMore,
 * nextCursor}` in the body, and, exactly when there is a next page, an RFC 8288
 * `Link: <next page>; rel="next"` header. The next page's URL is the request's own path and query
 * with only the cursor parameter replaced, so filters, `limit` and `format` carry over.
 *
 * Bounded lists (a tenant's webhooks, a user's devices, ...) use `wholeList()`: the same members,
 * always `hasMore: false, nextCursor: null`, and their route description says why.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";

export const PaginationSchema = z
  .object({
    limit: z.number().int().openapi({ description: "The page size used for this page." }),
    hasMore: z.boolean().openapi({ description: "true when a next page exists (then `Link: <...>; rel=\"next\"` is sent too)." }),
    nextCursor: z.string().nullable().openapi({ description: "Pass as the cursor parameter for the next page; null when there is none." }),
  })
  .openapi("Pagination", {
    description: "Every list answers this. When `hasMore` is true the response also carries `Link: <next page URL>; rel=\"next\"` (RFC 8288), which keeps the request's other query parameters.",
  });

export type Pagination = z.infer<typeof PaginationSchema>;

/** The feeds (events, audit log) also give a cursor on their last page, so a client can poll from it. */
export const FeedPagination = PaginationSchema.extend({
  nextCursor: z.string().openapi({ description: "Pass as `after` for the next page; also on the last page, to poll for what happens next." }),
});

/** The list document's schema: `{data: [...], pagination}`. */
export function pageOf<T extends z.ZodType, P extends z.ZodObject = typeof PaginationSchema>(item: T, pagination?: P) {
  return z.object({ data: z.array(item), pagination: (pagination ?? PaginationSchema) as P });
}

interface PageInput {
  limit: number;
  hasMore: boolean;
  /** The cursor of the next page (the event feed and the audit log also return one on their last page, to poll from). */
  nextCursor: string | null;
  /** The query parameter the next page's cursor goes in (default `cursor`; the feeds use `after`). */
  cursorParam?: string;
  /** false where the next page is not a GET of this URL (POST /v1/users/search): no Link header. */
  link?: boolean;
  /** Offset paging (`page`/`pageSize`): the next page is named by this parameter and value instead of a cursor. */
  nextParam?: [name: string, value: string];
}

/** The path and query of the next page: this request's, with `cursorParam` set to `cursor`. */
export function nextPageUrl(requestUrl: string, cursorParam: string, cursor: string): string {
  const url = new URL(requestUrl);
  url.searchParams.set(cursorParam, cursor);
  return `${url.pathname}?${url.searchParams.toString()}`;
}

/** The page object for the body; sets the `Link` header when there is a next page. */
export function pagination<C extends string | null>(c: Context, page: PageInput & { nextCursor: C }): Pagination & { nextCursor: C } {
  const { limit, hasMore, nextCursor } = page;
  const [param, value] = page.nextParam ?? [page.cursorParam ?? "cursor", nextCursor];
  if (hasMore && value !== null && page.link !== false) {
    c.header("Link", `<${nextPageUrl(c.req.url, param, value)}>; rel="next"`, { append: true });
  }
  return { limit, hasMore, nextCursor };
}

/** The sentence every unpaged list's route description starts its reason with. */
export const WHOLE_LIST = "Unpaged: the whole list in one page (`pagination` is always `hasMore: false, nextCursor: null`) because ";

/** A bounded list returned whole: the same page shape, with nothing after it. */
export function wholeList(count: number): Pagination {
  return { limit: count, hasMore: false, nextCursor: null };
}
