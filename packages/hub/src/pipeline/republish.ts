import {
  type BatchAck,
  type BatchPublisher,
  HEADERS,
  HeaderList,
  type OutgoingMessage,
  UNIFIED_STREAM,
  unifiedSubject,
} from '@argus/bus';
import { cloudEventAttributes } from '@argus/cdevents';
import type { EventRow } from '@argus/store';
import { NO_CLUSTER_TOKEN } from './tag.js';
import type { ValidMessage } from './validate.js';

export interface StoredEvent {
  readonly message: ValidMessage;
  readonly row: EventRow;
}

/** The unified-stream message of a stored event: binary mode, the hub's tags as headers. */
export const unifiedMessage = ({ message, row }: StoredEvent, storedAt: string): OutgoingMessage => {
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
  h.append(HEADERS.storedAt, storedAt);
  return {
    subject: unifiedSubject(
      row.cluster === '' ? NO_CLUSTER_TOKEN : row.cluster,
      message.subjectType,
      message.predicate,
    ),
    data: message.body,
    headers: h,
  };
};

/** Publishes stored events on the unified stream CDEVENTS, all at once, and returns their acks. */
export const republish = (publisher: BatchPublisher, events: readonly StoredEvent[]): Promise<BatchAck[]> => {
  const storedAt = new Date().toISOString();
  return publisher.publish(events.map((e) => unifiedMessage(e, storedAt)));
};
