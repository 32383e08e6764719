/**
 * @argus/cdevents: typed, validated CDEvents (spec v0.5.1 and v0.4.1) with CloudEvents bindings
 * for HTTP and NATS. No I/O.
 */

export type { AdmissionLimits, AdmissionReason, AdmissionRefusal, AdmittedNatsEvent } from './admission.js';
export {
  AdmissionError,
  admissionError,
  admitHttpEvents,
  admitNatsEvent,
  DEFAULT_MAX_BATCH_BYTES,
  maxHttpBodyBytes,
} from './admission.js';
export type { CloudEventAttributes } from './bindings/cloudevent.js';
export {
  assertAttributesAgree,
  BATCH_CONTENT_TYPE,
  CLOUDEVENTS_SPEC_VERSION,
  cloudEventAttributes,
  ENVELOPE_ALLOWANCE_BYTES,
  fromCloudEvent,
  STRUCTURED_CONTENT_TYPE,
  toCloudEvent,
} from './bindings/cloudevent.js';
export type { HttpMessage, HttpMode, HttpReadOptions } from './bindings/http.js';
export {
  DEFAULT_MAX_BATCH_SIZE,
  fromHttp,
  httpMode,
  isHttpEvent,
  toHttpBatch,
  toHttpBinary,
  toHttpStructured,
} from './bindings/http.js';
export type { NatsMessage, NatsMode } from './bindings/nats.js';
export {
  fromNats,
  NATS_MSG_ID_HEADER,
  natsBinaryProblem,
  toNatsBinary,
  toNatsStructured,
} from './bindings/nats.js';
export type { CustomEventInit, EventInit } from './build.js';
export { createCustomEvent, createEvent, serialize } from './build.js';
export { convert } from './convert.js';
export type { ValidationReason } from './errors.js';
export {
  BindingError,
  CDEventsError,
  ConversionError,
  MalformedJsonError,
  NestingTooDeepError,
  NumberOutOfRangeError,
  PayloadTooLargeError,
  UnknownEventTypeError,
  UnknownTypeVersionError,
  ValidationError,
} from './errors.js';
export { deterministicId, eventIdentity } from './ids.js';
export type { ParseOptions, ParseResult } from './parse.js';
export { DEFAULT_MAX_EVENT_BYTES, isCDEvent, parse, parseDetailed, safeParse, validate } from './parse.js';
export type { CustomEventTypeInfo, EventTypeInfo } from './registry.js';
export { classifyEventType, metricTypeLabel, typeString } from './registry.js';
export type { ValidationIssue } from './schema/compile.js';
export type { JsonSchema } from './schema/json-schema.js';
export { EMBEDDED_LINKS_SCHEMA, toJsonSchema } from './schema/json-schema.js';
export type { EventKey, SpecVersion } from './spec/catalog.js';
export { EVENT_KEYS, SPEC_VERSIONS } from './spec/catalog.js';
export {
  EARLIEST_EVENT_TIME_MS,
  EVENT_TIME_OPTIONS,
  epochMillis,
  LATEST_EVENT_TIME_MS,
  TimeRange,
  TimestampOutOfRangeError,
} from './time-range.js';
export type {
  CDEvent,
  CDEventOf,
  ContextV04,
  ContextV05,
  CustomCDEvent,
  CustomData,
  EmbeddedLink,
  EmbeddedLinkEnd,
  EmbeddedLinkPath,
  EmbeddedLinkRelation,
  EventsOf,
  EventTypeOf,
  KnownCDEvent,
  KnownEventType,
  SubjectContentOf,
} from './types.js';
export type { ValidatedEvent } from './validate.js';
export { eventSchema } from './validate.js';
