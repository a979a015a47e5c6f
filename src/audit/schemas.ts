/** OpenAPI/zod shape of an actor (audit/actor.ts), shared by the feed and the audit log. */
import { z } from "@hono/zod-openapi";
import { ACTOR_KINDS } from "./actor";

export const ActorSchema = z
  .object({
    kind: z.enum(ACTOR_KINDS),
    tokenId: z.string().optional(),
    tokenName: z.string().optional(),
    requestId: z.string().optional(),
    ip: z.string().optional().openapi({ description: "Client IP truncated to /24 (IPv4) or /48 (IPv6).", example: "203.0.113.0/24" }),
    collectionId: z.string().optional().openapi({ description: "kind `rule`: the collection whose audience rule acted." }),
    via: z.enum(["link", "token"]).optional().openapi({ description: "kind `console`: signed in by a platform operator's one-time link, or with an admin token (then `tokenId`)." }),
  })
  .openapi("Actor");
