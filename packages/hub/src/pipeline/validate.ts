import { parseRawSubject, SubjectSchemeError, typeTokens } from '@argus/bus';
import {
  AdmissionError,
  admitNatsEvent,
  eventIdentity,
  serialize,
  TimeRange,
  type ValidatedEvent,
  ValidationError,
} from '@argus/cdevents';
import { RejectedMessage } from '../errors.js';

/** What the validate stage needs of a JetStream message. */
export interface IncomingMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers?: { get(name: string): string } | undefined;
}

/** A message that is a valid CDEvent published on the right subject. */
export interface ValidMessage {
  readonly validated: ValidatedEvent;
  readonly instance: string;
  readonly subjectType: string;
  readonly predicate: string;
  readonly identity: string;
  /** The CDEvent JSON: the received bytes in binary and plain mode, re-serialized from structured mode. */
  readonly body: Uint8Array;
}

const encoder = new TextEncoder();

const describeIssues = (error: ValidationError): string =>
  error.issues.map((i) => `${i.path}: ${i.message}`).join('; ') || error.message;

/**
 * The dead letter of an admission refusal: the admission's reason (the one HTTP answers with), the
 * class of the error beneath it, and the schema issues' paths as detail.
 */
const admissionRejection = ({ reason, refusal }: AdmissionError): RejectedMessage =>
  refusal instanceof ValidationError
    ? RejectedMessage.of(reason, refusal, describeIssues(refusal))
    : RejectedMessage.of(reason, refusal);

/** Turns any failure of the checks below into the dead-letter reason and detail. */
export const rejection = (error: unknown): RejectedMessage => {
  if (error instanceof RejectedMessage) return error;
  if (error instanceof AdmissionError) return admissionRejection(error);
  if (error instanceof SubjectSchemeError) return RejectedMessage.of('bad-subject', error);
  throw error;
};

const ANY_STORABLE_TIME = new TimeRange({ maxAgeMs: Number.MAX_VALUE, maxLeadMs: Number.MAX_VALUE });

/**
 * Checks one raw message: a subject of the Argus scheme, a CDEvent the admission rules accept
 * (`admitNatsEvent`: any binding mode, size, NATS headers, `context.timestamp` within `timeRange` at
 * `nowMs`, by default anything ClickHouse can store), and a subject whose type tokens match the
 * event's type (a subject saying `service.deployed` over an `incident.detected` body is refused:
 * consumers route on subjects).
 */
export const validateMessage = (
  message: IncomingMessage,
  maxBytes: number,
  timeRange: TimeRange = ANY_STORABLE_TIME,
  nowMs: number = Date.now(),
): ValidMessage | RejectedMessage => {
  try {
    const { instance, subjectType, predicate } = parseRawSubject(message.subject);
    const validated = admitNatsEvent(
      { headers: message.headers, data: message.data },
      { maxEventBytes: maxBytes, timeRange },
      nowMs,
    );
    if (validated instanceof AdmissionError) return admissionRejection(validated);
    const expected = typeTokens(validated.event.context.type);
    if (expected.subjectType !== subjectType || expected.predicate !== predicate) {
      return new RejectedMessage(
        'subject-mismatch',
        'SubjectMismatch',
        `subject ${message.subject} says ${subjectType}.${predicate} but the event is ${validated.event.context.type}`,
      );
    }
    const { source, id } = validated.event.context;
    const body = validated.mode === 'structured' ? encoder.encode(serialize(validated.event)) : message.data;
    return {
      validated: { event: validated.event, info: validated.info, specVersion: validated.specVersion },
      instance,
      subjectType,
      predicate,
      identity: eventIdentity(source, id),
      body,
    };
  } catch (error) {
    return rejection(error);
  }
};
