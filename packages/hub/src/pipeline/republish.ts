import {
  type BatchAck,
  type BatchPublisher,
  HEADERS,
  HeaderList,
  type OutgoingMessage,
  UNIFIED_STREAM,
  unifiedSubject,
} from '@argus/bus';
import { cloudEventAttributes, natsBinaryProblem } from '@argus/cdevents';
import { RejectedMessage } from '../errors.js';
import type { PipelineCounts } from '../metrics.js';
import type { AdmittedEvent, PreparedEvent } from './admitted.js';
import type { StageRetry } from './retry.js';

/**
 * The unified-stream message of an admitted event: binary mode, the hub's tags as headers, the
 * identity as message id; or the refusal of an event NATS headers cannot carry.
 */
export const unifiedMessage = (
  admitted: AdmittedEvent,
): (OutgoingMessage & { readonly headers: HeaderList }) | RejectedMessage => {
  const problem = natsBinaryProblem(admitted.event);
  if (problem !== undefined) return RejectedMessage.of('binding', problem);
  const a = cloudEventAttributes(admitted.event);
  const { tags } = admitted;
  // A fresh list with distinct names: append, which skips set's search for an earlier value.
  const h = new HeaderList();
  h.append('ce-specversion', a.specversion);
  h.append('ce-id', a.id);
  h.append('ce-source', a.source);
  h.append('ce-type', a.type);
  h.append('ce-subject', a.subject);
  h.append('ce-time', a.time);
  h.append('content-type', a.datacontenttype);
  // The identity as message id: a republish after a crash is absorbed by the stream's window.
  h.append(HEADERS.msgId, admitted.identity);
  h.append(HEADERS.expectedStream, UNIFIED_STREAM);
  h.append(HEADERS.instance, tags.instance);
  h.append(HEADERS.cluster, tags.cluster);
  if (tags.environment !== '') h.append(HEADERS.environment, tags.environment);
  if (Object.keys(tags.labels).length > 0) h.append(HEADERS.labels, JSON.stringify(tags.labels));
  h.append(HEADERS.specVersion, admitted.specVersion);
  return {
    subject: unifiedSubject(tags.cluster, admitted.subjectType, admitted.predicate),
    data: admitted.body,
    headers: h,
  };
};

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
