/**
 * Handlers for the collection routes (./collections.routes.ts), made once per kind and typed by
 * that kind's contracts. They only translate: the collections mechanism lives in memberships/.
 */
import type { RouteHandler } from "@hono/zod-openapi";
import { coreContextOf } from "../../core/from-request";
import type { AppEnv } from "../../env";
import { pagination } from "../../http/paging";
import { createCollection, deleteCollection, getCollectionRow, listCollections, toCollection, updateCollection } from "../../memberships/collections";
import type { KindInfo } from "../../memberships/kinds";
import { addMembers, listMembers, removeMembers } from "../../memberships/members";
import type { CollectionRoutes } from "./collections.routes";

type Handlers = { [K in keyof CollectionRoutes]: RouteHandler<CollectionRoutes[K], AppEnv> };

const coreContext = coreContextOf;

/** The handlers for one kind. */
export function collectionHandlers(k: KindInfo): Handlers {
  const base = `/v1/${k.segment}`;
  return {
    list: async (c) => {
      const q = c.req.valid("query");
      const limit = q.limit ?? 100;
      const page = await listCollections(coreContext(c), k.kind, { limit, cursor: q.cursor });
      return c.json({ data: page.data, pagination: pagination(c, { limit, hasMore: page.nextCursor !== null, nextCursor: page.nextCursor }) }, 200);
    },
    create: async (c) => {
      const created = await createCollection(coreContext(c), k.kind, c.req.valid("json"));
      c.header("Location", `${base}/${created.id}`);
      return c.json(created, 201);
    },
    get: async (c) => c.json(toCollection(await getCollectionRow(coreContext(c), k.kind, c.req.valid("param").id)), 200),
    update: async (c) => c.json(await updateCollection(coreContext(c), k.kind, c.req.valid("param").id, c.req.valid("json")), 200),
    remove: async (c) => {
      await deleteCollection(coreContext(c), k.kind, c.req.valid("param").id);
      return c.body(null, 204);
    },
    listMembers: async (c) => {
      const q = c.req.valid("query");
      const limit = q.limit ?? 100;
      const page = await listMembers(coreContext(c), k.kind, c.req.valid("param").id, { limit, cursor: q.cursor });
      return c.json({ data: page.data, pagination: pagination(c, { limit, hasMore: page.nextCursor !== null, nextCursor: page.nextCursor }) }, 200);
    },
    addMembers: async (c) => c.json(await addMembers(coreContext(c), k.kind, c.req.valid("param").id, c.req.valid("json").userIds), 200),
    removeMembers: async (c) => c.json(await removeMembers(coreContext(c), k.kind, c.req.valid("param").id, c.req.valid("json").userIds), 200),
  };
}
