/**
 * Feed positions across a move. Webhook endpoints keep a cursor (`cursor_seq`) into the tenant's
 * feed and deliveries name their event's seq; the target shard numbers the copied events anew
 * (src/shards/feed.ts), so at the cut-over, under the fence and after the verifying pass, these
 * positions are translated through the event ids, which do not change. Target seqs follow the
 * source order (events are copied walking seq), so "every event up to the cursor" stays the same
 * set of events on both sides.
 */

/** Rewrites the tenant's feed positions on the target; the source is only read. */
export async function translateFeedPositions(source: D1Database, target: D1Database, tenantId: string): Promise<void> {
  // Deliveries: negate first so that the unique (endpoint, event_seq) index never sees two rows
  // on one value mid-update; a delivery whose event retention already deleted keeps a negative
  // position, which sorts it with the oldest (where it belongs) and never meets a real seq.
  await target.batch([
    target.prepare("UPDATE webhook_deliveries SET event_seq = -event_seq - 1 WHERE tenant_id = ? AND event_seq >= 0").bind(tenantId),
    target
      .prepare(
        "UPDATE webhook_deliveries SET event_seq = (SELECT e.seq FROM events e WHERE e.id = webhook_deliveries.event_id AND e.tenant_id = webhook_deliveries.tenant_id) " +
          "WHERE tenant_id = ? AND EXISTS (SELECT 1 FROM events e WHERE e.id = webhook_deliveries.event_id AND e.tenant_id = webhook_deliveries.tenant_id)",
      )
      .bind(tenantId),
  ]);
  // Endpoint cursors: the last event at or before the source cursor, found again on the target.
  const endpoints = (await target.prepare("SELECT id, cursor_seq FROM webhook_endpoints WHERE tenant_id = ?").bind(tenantId).all<{ id: string; cursor_seq: number }>()).results;
  const updates: D1PreparedStatement[] = [];
  for (const endpoint of endpoints) {
    const last = await source.prepare("SELECT id FROM events WHERE tenant_id = ? AND seq <= ? ORDER BY seq DESC LIMIT 1").bind(tenantId, endpoint.cursor_seq).first<{ id: string }>();
    const seq = last ? await target.prepare("SELECT seq FROM events WHERE tenant_id = ? AND id = ?").bind(tenantId, last.id).first<number>("seq") : null;
    updates.push(target.prepare("UPDATE webhook_endpoints SET cursor_seq = ? WHERE tenant_id = ? AND id = ?").bind(seq ?? 0, tenantId, endpoint.id));
  }
  if (updates.length > 0) await target.batch(updates);
}
