import { DLQ_STREAM, dlqSubject, HEADERS, headerValue } from '@argus/bus';
import type { JetStreamClient } from '@nats-io/jetstream';
import { type MsgHdrs, headers as natsHeaders } from '@nats-io/nats-core';
import type { RejectedMessage } from '../errors.js';

export interface DeadLetterSource {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers?: MsgHdrs | undefined;
  /** Stream sequence in CDEVENTS_RAW: makes the dead letter's message id, so a redelivery is not recorded twice. */
  readonly sequence: number;
}

const instanceOf = (subject: string): string => subject.split('.')[2] ?? 'unknown';

/**
 * Records a refused message on CDEVENTS_DLQ: the original bytes and headers, plus the error class,
 * reason and detail. Resolves after the JetStream ack, so the original may then be acked.
 */
export const publishDeadLetter = async (
  js: JetStreamClient,
  source: DeadLetterSource,
  rejected: RejectedMessage,
): Promise<void> => {
  const h = natsHeaders();
  if (source.headers !== undefined) {
    for (const [name, values] of source.headers) {
      // The original's message id would collide with the DLQ's own de-duplication.
      if (name.toLowerCase() === HEADERS.msgId.toLowerCase()) continue;
      for (const value of values) h.append(name, value);
    }
  }
  h.set(HEADERS.errorClass, headerValue(rejected.errorClass));
  h.set(HEADERS.errorReason, rejected.reason);
  h.set(HEADERS.errorDetail, headerValue(rejected.message));
  h.set(HEADERS.originalSubject, headerValue(source.subject));
  h.set(HEADERS.originalSequence, String(source.sequence));
  await js.publish(dlqSubject(instanceOf(source.subject)), source.data, {
    headers: h,
    msgID: `dlq-${source.sequence}`,
    expect: { streamName: DLQ_STREAM },
  });
};
