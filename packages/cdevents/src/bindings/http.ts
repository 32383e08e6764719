import { HTTP } from 'cloudevents';
import { BindingError, ValidationError } from '../errors.js';
import {
  DEFAULT_MAX_EVENT_BYTES,
  DEFAULT_MAX_JSON_DEPTH,
  decodeText,
  type ParseOptions,
  parseDetailed,
  parseJson,
} from '../parse.js';
import type { CDEvent } from '../types.js';
import type { ValidatedEvent } from '../validate.js';
import {
  assertAttributesAgree,
  assertSpecVersion,
  BATCH_CONTENT_TYPE,
  dataToEvent,
  ENVELOPE_ALLOWANCE_BYTES,
  isStructuredEnvelope,
  STRUCTURED_CONTENT_TYPE,
  toCloudEvent,
} from './cloudevent.js';

/** An HTTP request or response, as far as the binding cares. Header names are case-insensitive. */
export interface HttpMessage {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: string | Uint8Array;
}

export type HttpMode = 'binary' | 'structured' | 'batch' | 'plain';

/** Most events accepted in one batch request by default. */
export const DEFAULT_MAX_BATCH_SIZE = 1000;

export interface HttpReadOptions extends ParseOptions {
  /**
   * Most events accepted in one batch request.
   * @default 1000 (`DEFAULT_MAX_BATCH_SIZE`)
   */
  readonly maxBatchSize?: number;
}

/** CloudEvents HTTP binary mode: CDEvent JSON body, attributes as `ce-*` headers. */
export const toHttpBinary = (event: CDEvent): { headers: Record<string, string>; body: string } => {
  const message = HTTP.binary(toCloudEvent(event));
  return { headers: message.headers as Record<string, string>, body: JSON.stringify(event) };
};

/** CloudEvents HTTP structured mode: the whole CloudEvent as `application/cloudevents+json`. */
export const toHttpStructured = (event: CDEvent): { headers: Record<string, string>; body: string } => {
  const message = HTTP.structured(toCloudEvent(event));
  return { headers: message.headers as Record<string, string>, body: String(message.body) };
};

/** CloudEvents HTTP batch mode: a JSON array of structured CloudEvents. */
export const toHttpBatch = (
  events: readonly CDEvent[],
): { headers: Record<string, string>; body: string } => ({
  headers: { 'content-type': `${BATCH_CONTENT_TYPE}; charset=utf-8` },
  body: `[${events.map((e) => String(HTTP.structured(toCloudEvent(e)).body)).join(',')}]`,
});

const header = (message: HttpMessage, name: string): string | undefined => {
  for (const [key, value] of Object.entries(message.headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : (value as string | undefined);
  }
  return undefined;
};

const mediaType = (contentType: string | undefined): string =>
  (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

/** Which binding mode an HTTP message uses (`plain` = a bare CDEvent JSON body without `ce-` headers). */
export const httpMode = (message: HttpMessage): HttpMode => {
  const type = mediaType(header(message, 'content-type'));
  if (type === BATCH_CONTENT_TYPE) return 'batch';
  if (type === STRUCTURED_CONTENT_TYPE) return 'structured';
  if (header(message, 'ce-specversion') !== undefined) return 'binary';
  return 'plain';
};

const fromStructured = (envelope: unknown, options: ParseOptions): ValidatedEvent => {
  if (!isStructuredEnvelope(envelope)) {
    throw new BindingError(
      'malformed',
      'a structured CloudEvent must be a JSON object with specversion and data',
    );
  }
  const data =
    envelope.data === undefined && typeof envelope.data_base64 === 'string'
      ? Buffer.from(envelope.data_base64, 'base64')
      : envelope.data;
  return dataToEvent(data, typeof envelope.type === 'string' ? envelope.type : undefined, options);
};

/**
 * Reads every CDEvent of an HTTP message in any mode: binary, structured, batch, or a bare CDEvent
 * body (what Argo CD Notifications templates post). Throws `ValidationError` or `BindingError`.
 */
export const fromHttp = (message: HttpMessage, options: HttpReadOptions = {}): ValidatedEvent[] => {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_EVENT_BYTES;
  const mode = httpMode(message);
  if (mode === 'plain' || mode === 'binary') {
    const validated = parseDetailed(message.body, options);
    if (mode === 'binary') {
      assertSpecVersion(header(message, 'ce-specversion'));
      assertAttributesAgree(header(message, 'ce-type'), validated.event);
    }
    return [validated];
  }
  // Batches may hold many events: their byte limit scales with the batch size.
  const maxBatch = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
  // A structured envelope is one level above its event, a batch two; it may add its attributes'
  // bytes to the event's, as in NATS structured mode.
  const parsed = parseJson(
    decodeText(message.body, mode === 'batch' ? maxBytes * maxBatch : maxBytes + ENVELOPE_ALLOWANCE_BYTES),
    (options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH) + (mode === 'batch' ? 2 : 1),
  );
  if (mode === 'structured') return [fromStructured(parsed, options)];
  if (!Array.isArray(parsed)) throw new BindingError('malformed', 'a CloudEvents batch must be a JSON array');
  if (parsed.length > maxBatch) {
    throw new BindingError(
      'malformed',
      `a batch of ${parsed.length} events exceeds the limit of ${maxBatch}`,
    );
  }
  return parsed.map((envelope, index) => {
    try {
      return fromStructured(envelope, options);
    } catch (error) {
      if (error instanceof ValidationError || error instanceof BindingError) {
        error.message = `batch item ${index}: ${error.message}`;
      }
      throw error;
    }
  });
};

/** `true` when the message is a CloudEvent (any mode) or a bare CDEvent body. Does not validate it. */
export const isHttpEvent = (message: HttpMessage): boolean => {
  const mode = httpMode(message);
  return mode !== 'plain' || mediaType(header(message, 'content-type')) === 'application/json';
};
