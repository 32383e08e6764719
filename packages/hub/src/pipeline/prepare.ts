import { type EventRow, toEventRow } from '@argus/store';
import { RejectedMessage } from '../errors.js';
import type { AdmittedEvent, PreparedEvent } from './admitted.js';
import { unifiedMessage } from './unified-message.js';

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
