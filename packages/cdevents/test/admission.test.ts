import { describe, expect, test } from 'vitest';
import {
  AdmissionError,
  type AdmissionLimits,
  admitHttpEvents,
  admitNatsEvent,
  createEvent,
  ENVELOPE_ALLOWANCE_BYTES,
  maxHttpBodyBytes,
  serialize,
  TimeRange,
  toHttpStructured,
  toNatsStructured,
} from '../src/index.js';

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);
const LIMITS: AdmissionLimits = { maxEventBytes: 4000, timeRange: new TimeRange() };
const encoder = new TextEncoder();

const deployed = (overrides: { id?: string; timestamp?: string; blob?: string } = {}) =>
  createEvent({
    type: 'service.deployed',
    id: overrides.id ?? 'e1',
    source: '/corpus/podinfo',
    timestamp: overrides.timestamp ?? new Date(NOW - 3_600_000).toISOString(),
    subject: { id: 'podinfo', content: { environment: { id: 'prod' }, artifactId: 'pkg:oci/podinfo' } },
    ...(overrides.blob === undefined ? {} : { customData: { blob: overrides.blob } }),
  });

/** The same JSON bytes through both bindings' admission: NATS (plain) and HTTP (plain). */
const both = (body: Uint8Array) => ({
  nats: admitNatsEvent({ data: body }, LIMITS, NOW),
  http: admitHttpEvents({ headers: { 'content-type': 'application/json' }, body }, LIMITS, NOW),
});

const refusalOf = (result: unknown) =>
  result instanceof AdmissionError
    ? { reason: result.reason, status: result.status, class: result.refusal.name }
    : 'admitted';

describe('one admission rule set for NATS and HTTP', () => {
  test.each([
    ['malformed JSON', encoder.encode('{"context":'), 'malformed-json', 400],
    ['a schema violation', encoder.encode('{"context":{},"subject":{}}'), 'not-an-event', 400],
    [
      'a line break NATS headers cannot carry',
      encoder.encode(serialize(deployed({ id: 'a\r\nb' }))),
      'binding',
      400,
    ],
    [
      'a time outside the range',
      encoder.encode(serialize(deployed({ timestamp: '1999-01-01T00:00:00Z' }))),
      'timestamp-out-of-range',
      400,
    ],
    ['too many bytes', encoder.encode(serialize(deployed({ blob: 'x'.repeat(5000) }))), 'too-large', 413],
  ] as const)('%s: the same reason and status through both bindings', (_, body, reason, status) => {
    const { nats, http } = both(body);
    expect(refusalOf(nats)).toMatchObject({ reason, status });
    expect(refusalOf(http)).toEqual(refusalOf(nats));
  });

  test('binding errors have one reason, whatever their kind; the kind is in the answer', () => {
    const event = deployed();
    const structured = toNatsStructured(event);
    const mismatch = encoder.encode(
      new TextDecoder().decode(structured.data).replace('deployed.0', 'removed.0'),
    );
    const nats = admitNatsEvent({ headers: structured.headers, data: mismatch }, LIMITS, NOW);
    const http = admitHttpEvents(
      { headers: { 'content-type': 'application/cloudevents+json' }, body: mismatch },
      LIMITS,
      NOW,
    );
    expect(refusalOf(nats)).toEqual({ reason: 'binding', status: 400, class: 'BindingError' });
    expect(refusalOf(http)).toEqual(refusalOf(nats));
    expect((http as AdmissionError).answerFields()).toMatchObject({
      reason: 'binding',
      binding: 'attribute-mismatch',
    });
  });

  test('a structured envelope gets the same allowance over HTTP as over NATS', () => {
    const base = serialize(deployed({ blob: '' })).length;
    const event = deployed({ blob: 'v'.repeat(LIMITS.maxEventBytes - base - 10) });
    const nats = admitNatsEvent(toNatsStructured(event), LIMITS, NOW);
    const { headers, body } = toHttpStructured(event);
    const http = admitHttpEvents({ headers, body }, LIMITS, NOW);
    expect(refusalOf(nats)).toBe('admitted');
    expect(refusalOf(http)).toBe('admitted');
  });

  test('each batch item is held to the event limit, and named in the refusal', () => {
    const small = toHttpStructured(deployed({ id: 'small' })).body;
    const big = toHttpStructured(deployed({ id: 'big', blob: 'x'.repeat(5000) })).body;
    const refused = admitHttpEvents(
      { headers: { 'content-type': 'application/cloudevents-batch+json' }, body: `[${small},${big}]` },
      LIMITS,
      NOW,
    );
    expect(refusalOf(refused)).toEqual({ reason: 'too-large', status: 413, class: 'PayloadTooLargeError' });
    expect((refused as AdmissionError).message).toMatch(/^batch item 1: /);
  });

  test('the body limit: one event and its envelope, or a batch', () => {
    expect(maxHttpBodyBytes('application/json', LIMITS)).toBe(4000 + ENVELOPE_ALLOWANCE_BYTES);
    expect(maxHttpBodyBytes(undefined, LIMITS)).toBe(4000 + ENVELOPE_ALLOWANCE_BYTES);
    expect(maxHttpBodyBytes('application/cloudevents-batch+json; charset=utf-8', LIMITS)).toBe(
      10 * 1024 * 1024,
    );
    expect(maxHttpBodyBytes('application/cloudevents-batch+json', { ...LIMITS, maxBatchBytes: 5 })).toBe(5);
  });
});
