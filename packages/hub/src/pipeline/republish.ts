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
import type { EventRow } from '@argus/store';
import { RejectedMessage } from '../errors.js';
import type { ValidMessage } from './validate.js';

/** An accepted event: its row for ClickHouse and its message for the unified stream (stored-at added when sent). */
export interface StoredEvent {
  readonly identity: string;
  readonly row: EventRow;
  readonly unified: OutgoingMessage & { readonly headers: HeaderList };
}

/**
 * The unified-stream message of an accepted event: binary mode, the hub's tags as headers. Built when
 * the event is admitted, so an event that cannot travel in NATS headers (a line break in its id, source
 * or subject id) is dead-lettered before it is stored, instead of failing at republish for ever, and the
 * parsed event need not be kept until then.
 */
export const prepareStoredEvent = (message: ValidMessage, row: EventRow): StoredEvent | RejectedMessage => {
  const problem = natsBinaryProblem(message.validated.event);
  if (problem !== undefined) return new RejectedMessage('binding', problem.name, problem.message);
  const a = cloudEventAttributes(message.validated.event);
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
  h.append(HEADERS.msgId, message.identity);
  h.append('Nats-Expected-Stream', UNIFIED_STREAM);
  h.append(HEADERS.instance, row.instance);
  h.append(HEADERS.cluster, row.cluster);
  if (row.environment !== '') h.append(HEADERS.environment, row.environment);
  if (Object.keys(row.labels).length > 0) h.append(HEADERS.labels, JSON.stringify(row.labels));
  h.append(HEADERS.specVersion, row.spec_version);
  return {
    identity: message.identity,
    row,
    unified: {
      subject: unifiedSubject(row.cluster, message.subjectType, message.predicate),
      data: message.body,
      headers: h,
    },
  };
};

/** Publishes stored events on the unified stream CDEVENTS, all at once, and returns their acks. */
export const republish = (publisher: BatchPublisher, events: readonly StoredEvent[]): Promise<BatchAck[]> => {
  const storedAt = new Date().toISOString();
  // set, not append: a retried batch replaces the time of the failed attempt.
  for (const e of events) e.unified.headers.set(HEADERS.storedAt, storedAt);
  return publisher.publish(events.map((e) => e.unified));
};
