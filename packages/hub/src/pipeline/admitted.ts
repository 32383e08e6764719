import type { HeaderList, OutgoingMessage } from '@argus/bus';
import type { CDEvent } from '@argus/cdevents';
import { type EventRow, type EventTags, toEventRow } from '@argus/store';
import { RejectedMessage } from '../errors.js';
import { unifiedMessage } from './republish.js';

/**
 * One admitted event: everything the ClickHouse row and the unified-stream message are built from,
 * the identity digest included (computed once, by the validate stage).
 */
export interface AdmittedEvent {
  /** Digest of `context.source` + `context.id`: the row's identity and the unified message's id. */
  readonly identity: string;
  readonly event: CDEvent;
  readonly specVersion: string;
  readonly subjectType: string;
  readonly predicate: string;
  /** The CDEvent JSON as stored and republished. */
  readonly body: Uint8Array;
  readonly tags: EventTags;
  readonly receivedAt: Date;
}

/**
 * An admitted event prepared for the store and republish stages: its row and its unified message,
 * which a batch keeps until it is acked (not the parsed event).
 */
export interface PreparedEvent {
  readonly identity: string;
  readonly row: EventRow;
  /** Stored-at is added when sent. */
  readonly unified: OutgoingMessage & { readonly headers: HeaderList };
}

const decoder = new TextDecoder();

/** The ClickHouse row of an admitted event. */
export const toRow = (admitted: AdmittedEvent): EventRow =>
  toEventRow({
    event: admitted.event,
    subjectType: admitted.subjectType,
    predicate: admitted.predicate,
    specVersion: admitted.specVersion,
    identity: admitted.identity,
    raw: decoder.decode(admitted.body),
    tags: admitted.tags,
    receivedAt: admitted.receivedAt,
  });

/**
 * The row and the unified message of an admitted event, both built at admission: an event that
 * cannot travel in NATS headers (a line break in its id, source or subject id) is dead-lettered
 * before it is stored, instead of failing at republish for ever, and the parsed event need not be
 * kept until then.
 */
export const toPreparedEvent = (admitted: AdmittedEvent): PreparedEvent | RejectedMessage => {
  const unified = unifiedMessage(admitted);
  if (unified instanceof RejectedMessage) return unified;
  return { identity: admitted.identity, row: toRow(admitted), unified };
};
