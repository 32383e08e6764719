import { CloudEvent } from 'cloudevents';
import { BindingError, PayloadTooLargeError } from '../errors.js';
import { DEFAULT_MAX_EVENT_BYTES, type ParseOptions, parseDetailed } from '../parse.js';
import { isPlainObject } from '../schema/compile.js';
import type { CDEvent } from '../types.js';
import { type ValidatedEvent, validateEvent } from '../validate.js';

/** CloudEvents spec version of every envelope we write. */
export const CLOUDEVENTS_SPEC_VERSION = '1.0';
export const JSON_CONTENT_TYPE = 'application/json';
export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json';
export const BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json';
/**
 * Bytes a structured CloudEvent may add around the CDEvent it carries (its attributes), above the
 * event limit: the one allowance of every binding and receiver.
 */
export const ENVELOPE_ALLOWANCE_BYTES = 4096;

/**
 * The CloudEvents attributes of a CDEvent, per the CDEvents CloudEvents binding:
 * id, source, type and time from `context`, subject from `subject.id`, the whole CDEvent as data.
 */
export interface CloudEventAttributes {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
}

export const cloudEventAttributes = (event: CDEvent): CloudEventAttributes => ({
  specversion: CLOUDEVENTS_SPEC_VERSION,
  id: event.context.id,
  source: event.context.source,
  type: event.context.type,
  subject: event.subject.id,
  time: event.context.timestamp,
  datacontenttype: JSON_CONTENT_TYPE,
});

/** Wraps a CDEvent in a CloudEvent (cloudevents SDK) whose data is the CDEvent. */
export const toCloudEvent = (event: CDEvent): CloudEvent<CDEvent> =>
  new CloudEvent<CDEvent>({ ...cloudEventAttributes(event), data: event }, false);

/**
 * The CloudEvent `type` must name the CDEvent type it carries: routing and filtering use it.
 * `id`, `source` and `time` are not compared: several SDKs put random ids and observation times
 * there, and a CDEvent's identity lives in its own context.
 */
export const assertAttributesAgree = (ceType: string | undefined, event: CDEvent): void => {
  if (ceType !== undefined && ceType !== '' && ceType !== event.context.type) {
    throw new BindingError(
      'attribute-mismatch',
      `CloudEvent type ${JSON.stringify(ceType)} disagrees with the CDEvent's context.type ${JSON.stringify(event.context.type)}`,
      { attribute: 'type' },
    );
  }
};

/** Only CloudEvents 1.0 is defined; anything else is refused rather than guessed at. */
export const assertSpecVersion = (specversion: string | undefined): void => {
  if (specversion !== undefined && specversion !== CLOUDEVENTS_SPEC_VERSION) {
    throw new BindingError(
      'malformed',
      `CloudEvents specversion ${JSON.stringify(specversion)} is not supported: expected "1.0"`,
      { attribute: 'specversion' },
    );
  }
};

/** The CDEvent carried by a CloudEvent's data (object, JSON text or bytes), validated. */
export const dataToEvent = (
  data: unknown,
  ceType: string | undefined,
  options: ParseOptions = {},
): ValidatedEvent => {
  if (data === undefined || data === null) {
    throw new BindingError('missing-attribute', 'the CloudEvent has no data: a CDEvent must be its data', {
      attribute: 'data',
    });
  }
  if (typeof data === 'string' || data instanceof Uint8Array) {
    const validated = parseDetailed(data, options);
    assertAttributesAgree(ceType, validated.event);
    return validated;
  }
  // JSON data inside the envelope: held to the event limit as it will travel on its own (NATS
  // binary mode), so the envelope's allowance never lets a larger event through.
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_EVENT_BYTES;
  const size = Buffer.byteLength(JSON.stringify(data), 'utf8');
  if (size > maxBytes) throw new PayloadTooLargeError(size, maxBytes);
  const validated = validateEvent(data);
  assertAttributesAgree(ceType, validated.event);
  return validated;
};

/** Reads the CDEvent out of a CloudEvent (cloudevents SDK object or plain attributes). */
export const fromCloudEvent = (ce: { type?: unknown; data?: unknown; data_base64?: unknown }): CDEvent => {
  const data =
    ce.data === undefined && typeof ce.data_base64 === 'string'
      ? Buffer.from(ce.data_base64, 'base64')
      : ce.data;
  return dataToEvent(data, typeof ce.type === 'string' ? ce.type : undefined).event;
};

/** `true` for a JSON object that looks like a structured-mode CloudEvent rather than a bare CDEvent. */
export const isStructuredEnvelope = (value: unknown): value is Record<string, unknown> =>
  isPlainObject(value) &&
  typeof value.specversion === 'string' &&
  !Object.hasOwn(value, 'context') &&
  (Object.hasOwn(value, 'data') || Object.hasOwn(value, 'data_base64'));
