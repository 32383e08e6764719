import { BATCH_CONTENT_TYPE, ENVELOPE_ALLOWANCE_BYTES } from './bindings/cloudevent.js';
import { DEFAULT_MAX_BATCH_SIZE, fromHttp, type HttpMessage } from './bindings/http.js';
import { fromNats, type NatsMessage, type NatsMode, natsBinaryProblem } from './bindings/nats.js';
import { BindingError, CDEventsError, ValidationError, type ValidationReason } from './errors.js';
import { TimeRange, TimestampOutOfRangeError } from './time-range.js';
import type { ValidatedEvent } from './validate.js';

/** Largest HTTP request body of a CloudEvents batch by default, in bytes (10 MiB). */
export const DEFAULT_MAX_BATCH_BYTES = 10 * 1024 * 1024;

/**
 * The limits every entry point admits events with (hub consumer, hub ingest, agent webhook): one
 * object, so an agent given the hub's values refuses exactly what the hub would dead-letter.
 */
export interface AdmissionLimits {
  /** Largest CDEvent, in bytes, as it travels in NATS binary mode. */
  readonly maxEventBytes: number;
  /** Accepted `context.timestamp` range. @default TimeRange's (400 days back, 1 day ahead) */
  readonly timeRange?: TimeRange | undefined;
  /** Most events in one HTTP batch. @default 1000 (`DEFAULT_MAX_BATCH_SIZE`) */
  readonly maxBatchSize?: number | undefined;
  /** Largest HTTP batch body, in bytes. @default 10 MiB (`DEFAULT_MAX_BATCH_BYTES`) */
  readonly maxBatchBytes?: number | undefined;
}

/** Why an event was refused: one literal for the HTTP answer's `reason` and the dead letter's. */
export type AdmissionReason = ValidationReason | 'binding' | 'timestamp-out-of-range';

/** What refused the event beneath an `AdmissionError`. */
export type AdmissionRefusal = ValidationError | BindingError | TimestampOutOfRangeError;

/**
 * An event refused by the admission rules. `reason` is the one literal every entry point reports
 * (HTTP `reason`, dead-letter `Argus-Error-Reason`), `status` the one HTTP status (413 for size,
 * 400 otherwise), `refusal` the error that refused it (its class goes into dead letters).
 */
export class AdmissionError extends CDEventsError {
  override name = 'AdmissionError';
  readonly reason: AdmissionReason;
  readonly status: 400 | 413;
  readonly refusal: AdmissionRefusal;
  /** Position in an HTTP batch, when the request held more than one event. */
  readonly item: number | undefined;

  constructor(refusal: AdmissionRefusal, item?: number) {
    // fromHttp already names the batch item of a parse failure.
    const named = item !== undefined && !refusal.message.startsWith('batch item ');
    super(named ? `batch item ${item}: ${refusal.message}` : refusal.message, { cause: refusal });
    this.refusal = refusal;
    this.item = item;
    this.reason = refusal instanceof BindingError ? 'binding' : refusal.reason;
    this.status = this.reason === 'too-large' ? 413 : 400;
  }

  /** What an HTTP answer adds to its `error`: the reason, and what the sender needs to act on it. */
  answerFields(): Record<string, unknown> {
    const { reason, refusal } = this;
    if (refusal instanceof ValidationError) return { reason, issues: refusal.issues };
    if (refusal instanceof TimestampOutOfRangeError)
      return { reason, earliest: refusal.earliest, latest: refusal.latest };
    return refusal.attribute === undefined
      ? { reason, binding: refusal.reason }
      : { reason, binding: refusal.reason, attribute: refusal.attribute };
  }
}

/** The admission error of what a binding or a check threw; anything else is rethrown (a bug). */
export const admissionError = (error: unknown, item?: number): AdmissionError => {
  if (error instanceof AdmissionError) return error;
  if (
    error instanceof ValidationError ||
    error instanceof BindingError ||
    error instanceof TimestampOutOfRangeError
  )
    return new AdmissionError(error, item);
  throw error;
};

const DEFAULT_TIME_RANGE = new TimeRange();

/**
 * The checks after parsing (which held the event to `maxEventBytes`, in an envelope or not), the
 * same for every entry point: NATS headers can carry it, and its time is within the range at `nowMs`.
 */
const checkEvent = (
  validated: ValidatedEvent,
  limits: AdmissionLimits,
  nowMs: number,
): AdmissionRefusal | undefined => {
  const notCarried = natsBinaryProblem(validated.event);
  if (notCarried !== undefined) return notCarried;
  return (limits.timeRange ?? DEFAULT_TIME_RANGE).check(validated.event.context.timestamp, nowMs);
};

/** An event a NATS message carried, admitted: the validated event and the binding mode it came in. */
export type AdmittedNatsEvent = ValidatedEvent & { readonly mode: NatsMode };

/** Admits the CDEvent of a NATS message (any binding mode), or says why not. */
export const admitNatsEvent = (
  message: NatsMessage,
  limits: AdmissionLimits,
  nowMs: number = Date.now(),
): AdmittedNatsEvent | AdmissionError => {
  try {
    const validated = fromNats(message, { maxBytes: limits.maxEventBytes });
    const refused = checkEvent(validated, limits, nowMs);
    return refused === undefined ? validated : new AdmissionError(refused);
  } catch (error) {
    return admissionError(error);
  }
};

/**
 * Admits every CDEvent of an HTTP request body (binary, structured, batch or bare), all or nothing:
 * the first refused event refuses the request.
 */
export const admitHttpEvents = (
  message: HttpMessage,
  limits: AdmissionLimits,
  nowMs: number = Date.now(),
): ValidatedEvent[] | AdmissionError => {
  let events: ValidatedEvent[];
  try {
    events = fromHttp(message, {
      maxBytes: limits.maxEventBytes,
      maxBatchSize: limits.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE,
    });
  } catch (error) {
    return admissionError(error);
  }
  for (const [index, validated] of events.entries()) {
    const refused = checkEvent(validated, limits, nowMs);
    if (refused !== undefined) return new AdmissionError(refused, events.length > 1 ? index : undefined);
  }
  return events;
};

/**
 * The largest HTTP body worth reading for a request of `contentType`: a batch's limit, or one
 * event plus its envelope. Larger bodies are refused (413) before they are read.
 */
export const maxHttpBodyBytes = (contentType: string | undefined, limits: AdmissionLimits): number =>
  (contentType ?? '').toLowerCase().includes(BATCH_CONTENT_TYPE)
    ? (limits.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES)
    : limits.maxEventBytes + ENVELOPE_ALLOWANCE_BYTES;
