import { type BatchAck, type BatchPublisher, HEADERS } from '@argus/bus';
import type { PipelineCounts } from '../metrics.js';
import type { PreparedEvent } from './admitted.js';
import type { StageRetry } from './retry.js';

/** Publishes stored events on the unified stream CDEVENTS, all at once, and returns their acks. */
export const republish = (
  publisher: BatchPublisher,
  events: readonly PreparedEvent[],
): Promise<BatchAck[]> => {
  const storedAt = new Date().toISOString();
  // set, not append: a retried batch replaces the time of the failed attempt.
  for (const e of events) e.unified.headers.set(HEADERS.storedAt, storedAt);
  return publisher.publish(events.map((e) => e.unified));
};

/** The republish stage: a batch's newly stored events onto CDEVENTS (repeats JetStream absorbed are not counted). */
export const republishBatch = async (
  publisher: BatchPublisher,
  events: readonly PreparedEvent[],
  retry: StageRetry,
  counts: PipelineCounts,
): Promise<void> => {
  if (events.length === 0) return;
  const acks = await retry('republish on CDEVENTS', () => republish(publisher, events));
  counts.republished(acks.filter((a) => !a.duplicate).length);
};
