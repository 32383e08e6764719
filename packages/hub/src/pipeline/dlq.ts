import {
  DLQ_STREAM,
  deadLetterMessageId,
  dlqSubject,
  HEADERS,
  HeaderList,
  headerValue,
  isValidHeaderName,
  rawSubjectInstance,
  receivedHeaderPairs,
} from '@argus/bus';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { describeCauses, type RejectedMessage } from '../errors.js';
import type { PipelineCounts } from '../metrics.js';
import type { Refused } from './admit.js';
import type { StageRetry } from './retry.js';

export interface DeadLetterSource {
  readonly subject: string;
  readonly data: Uint8Array;
  /** The original's headers as sent, in order (`receivedHeaderPairs`). */
  readonly headers: readonly (readonly [string, string])[];
  /** Stream sequence in CDEVENTS_RAW: makes the dead letter's message id, so a redelivery is not recorded twice. */
  readonly sequence: number;
}

/** Room left for the headers the client adds when publishing (the message id). */
const TRUNCATION_MARGIN = 256;

const instanceOf = (subject: string): string => rawSubjectInstance(subject) ?? 'unknown';

/**
 * Records a refused message on CDEVENTS_DLQ: the original bytes and headers, plus the error class,
 * its cause, the reason and the detail. Resolves after the JetStream ack, so the original may then be acked.
 */
export const publishDeadLetter = async (
  js: JetStreamClient,
  source: DeadLetterSource,
  rejected: RejectedMessage,
  /** The server's max_payload: a dead letter that would exceed it keeps only the original's first bytes. */
  maxPayload?: number,
): Promise<void> => {
  const h = new HeaderList();
  const dropped: string[] = [];
  for (const [name, value] of source.headers) {
    // The original's message id would collide with the DLQ's own de-duplication.
    if (name.toLowerCase() === HEADERS.msgId.toLowerCase()) continue;
    // A header the server passed through but no client may publish (a space in its name): kept by
    // name only, rather than failing this dead letter on every retry.
    if (isValidHeaderName(name)) h.append(name, value);
    else if (!dropped.includes(name)) dropped.push(name);
  }
  if (dropped.length > 0) h.set(HEADERS.droppedHeaders, headerValue(JSON.stringify(dropped)));
  h.set(HEADERS.errorClass, headerValue(rejected.errorClass));
  const causes = describeCauses(rejected);
  if (causes !== undefined) h.set(HEADERS.errorCause, headerValue(causes));
  h.set(HEADERS.errorReason, rejected.reason);
  h.set(HEADERS.errorDetail, headerValue(rejected.message));
  h.set(HEADERS.originalSubject, headerValue(source.subject));
  h.set(HEADERS.originalSequence, String(source.sequence));
  let data = source.data;
  // A refused message near the limit would not fit with these headers added, and publishing it would
  // fail the same way on every retry: keep what fits and say how large the original was.
  if (maxPayload !== undefined && h.encode().length + data.length > maxPayload) {
    h.set(HEADERS.originalBytes, String(data.length));
    data = data.subarray(0, Math.max(0, maxPayload - h.encode().length - TRUNCATION_MARGIN));
  }
  await js.publish(dlqSubject(instanceOf(source.subject)), data, {
    headers: h,
    msgID: deadLetterMessageId(source.sequence),
    expect: { streamName: DLQ_STREAM },
  });
};

export interface DeadLetterStageConfig {
  readonly js: JetStreamClient;
  /** The server's max_payload, when known. */
  readonly maxPayload: () => number | undefined;
  readonly counts: PipelineCounts;
  readonly logger: Logger;
}

/** The dead-letter stage: records a batch's refused messages (all acked by JetStream before their originals are acked). */
export const deadLetterBatch = async (
  config: DeadLetterStageConfig,
  refused: readonly Refused[],
  retry: StageRetry,
): Promise<void> => {
  if (refused.length === 0) return;
  await retry('publish dead letters', () =>
    Promise.all(
      refused.map(({ msg, rejection }) =>
        publishDeadLetter(
          config.js,
          {
            subject: msg.subject,
            data: msg.data,
            headers: receivedHeaderPairs(msg),
            sequence: msg.info.streamSequence,
          },
          rejection,
          config.maxPayload(),
        ),
      ),
    ),
  );
  for (const { msg, rejection } of refused) {
    config.counts.deadLetter(rejection.reason);
    config.logger.warn(
      {
        reason: rejection.reason,
        errorClass: rejection.errorClass,
        cause: describeCauses(rejection),
        detail: rejection.message,
        subject: msg.subject,
        seq: msg.info.streamSequence,
      },
      'message refused; sent to CDEVENTS_DLQ',
    );
  }
};
