import type { LogsState } from "./state.js";

/**
 * Deletes every event older than its group's retention, as of the injected clock's now. Reads
 * already hide such events; the sweep frees the space. Returns how many events it deleted.
 */
export function sweepRetention(state: LogsState): number {
  const now = state.now();
  let deleted = 0;
  for (const { scope, doc } of state.groups.listAll())
    if (doc.retentionInDays) deleted += state.events.deleteBefore(scope, doc.name, state.retentionCutoff(doc, now));
  return deleted;
}
