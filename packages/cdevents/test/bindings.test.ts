import { describe, expect, test } from 'vitest';
import { NATS_MSG_ID_HEADER } from '../src/bindings/nats.js';
import {
  BindingError,
  type CDEvent,
  createEvent,
  eventIdentity,
  fromCloudEvent,
  fromHttp,
  fromNats,
  httpMode,
  natsBinaryProblem,
  PayloadTooLargeError,
  toCloudEvent,
  toHttpBatch,
  toHttpBinary,
  toHttpStructured,
  toNatsBinary,
  toNatsStructured,
  ValidationError,
} from '../src/index.js';

const make = (id: string): CDEvent =>
  createEvent({
    type: 'incident.detected',
    id,
    source: '/monitoring/prometheus',
    timestamp: '2026-11-24T10:00:00.123456Z',
    subject: { id: `inc-${id}`, content: { environment: { id: 'prod' }, description: 'latency' } },
    customData: { metric: 'p99' },
  });

const event = make('a1');

describe('CloudEvents', () => {
  test('attributes follow the CDEvents binding; the data is the CDEvent', () => {
    const ce = toCloudEvent(event);
    expect(ce).toMatchObject({
      id: 'a1',
      source: '/monitoring/prometheus',
      type: event.context.type,
      subject: 'inc-a1',
      specversion: '1.0',
    });
    expect(fromCloudEvent(ce)).toEqual(event);
  });
});

describe('HTTP binding', () => {
  test('binary mode round trip', () => {
    const message = toHttpBinary(event);
    expect(message.headers['ce-type']).toBe(event.context.type);
    expect(httpMode(message)).toBe('binary');
    expect(fromHttp(message).map((v) => v.event)).toEqual([event]);
  });

  test('structured mode round trip keeps the exact timestamp inside the event', () => {
    const message = toHttpStructured(event);
    expect(httpMode(message)).toBe('structured');
    const [back] = fromHttp(message);
    expect(back?.event.context.timestamp).toBe('2026-11-24T10:00:00.123456Z');
  });

  test('batch mode round trip; a bad item is named by its index', () => {
    const batch = toHttpBatch([make('b1'), make('b2')]);
    expect(httpMode(batch)).toBe('batch');
    expect(fromHttp(batch).map((v) => v.event.context.id)).toEqual(['b1', 'b2']);
    const items = JSON.parse(batch.body) as { data: { subject: { content: Record<string, unknown> } } }[];
    delete items[1]?.data.subject.content.environment;
    const error = (() => {
      try {
        fromHttp({ headers: batch.headers, body: JSON.stringify(items) });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(/^batch item 1: /);
  });

  test('a bare CDEvent body (Argo CD Notifications) is plain mode', () => {
    const message = { headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) };
    expect(httpMode(message)).toBe('plain');
    expect(fromHttp(message)[0]?.event).toEqual(event);
  });

  test('a ce-type that disagrees with the body is refused', () => {
    const message = toHttpBinary(event);
    const error = (() => {
      try {
        fromHttp({
          headers: { ...message.headers, 'ce-type': 'dev.cdevents.incident.resolved.0.3.0' },
          body: message.body,
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(BindingError);
    expect((error as BindingError).reason).toBe('attribute-mismatch');
  });

  test('an unknown CloudEvents specversion is refused', () => {
    const message = toHttpBinary(event);
    expect(() =>
      fromHttp({ headers: { ...message.headers, 'ce-specversion': '0.3' }, body: message.body }),
    ).toThrow(BindingError);
  });

  test('a random ce-id is fine: identity lives in the CDEvent', () => {
    const message = toHttpBinary(event);
    expect(
      fromHttp({ headers: { ...message.headers, 'ce-id': 'random-123' }, body: message.body })[0]?.event
        .context.id,
    ).toBe('a1');
  });

  test('size limits apply to each mode', () => {
    expect(() => fromHttp(toHttpBinary(event), { maxBytes: 100 })).toThrow(PayloadTooLargeError);
    expect(() => fromHttp(toHttpStructured(event), { maxBytes: 100 })).toThrow(PayloadTooLargeError);
    const tooMany = toHttpBatch([make('1'), make('2'), make('3')]);
    expect(() => fromHttp(tooMany, { maxBatchSize: 2 })).toThrow(/exceeds the limit of 2/);
  });
});

describe('NATS binding', () => {
  test('binary mode: CDEvent body, ce- headers, identity message id', () => {
    const message = toNatsBinary(event);
    expect(JSON.parse(new TextDecoder().decode(message.data))).toEqual(event);
    expect(message.headers).toMatchObject({
      'ce-specversion': '1.0',
      'ce-id': 'a1',
      'ce-source': '/monitoring/prometheus',
      'ce-type': event.context.type,
      'ce-subject': 'inc-a1',
      'ce-time': '2026-11-24T10:00:00.123456Z',
      [NATS_MSG_ID_HEADER]: eventIdentity('/monitoring/prometheus', 'a1'),
    });
    const back = fromNats(message);
    expect(back.mode).toBe('binary');
    expect(back.event).toEqual(event);
  });

  test('binary mode refuses what a header cannot carry: a line break in the id, source or subject id', () => {
    expect(natsBinaryProblem(event)).toBeUndefined();
    for (const [field, broken] of [
      ['context.id', { ...event, context: { ...event.context, id: 'a\nb' } }],
      ['context.source', { ...event, context: { ...event.context, source: '/x\r/y' } }],
      ['subject.id', { ...event, subject: { ...event.subject, id: 'inc\r\n1' } }],
    ] as const) {
      const problem = natsBinaryProblem(broken as CDEvent);
      expect(problem).toBeInstanceOf(BindingError);
      expect(problem?.message).toMatch(
        new RegExp(`^${field.replace('.', '\\.')} ".*" contains a line break`),
      );
      expect(() => toNatsBinary(broken as CDEvent)).toThrow(BindingError);
    }
  });

  test('headers may be a record or a MsgHdrs-like object that answers "" when absent', () => {
    const message = toNatsBinary(event);
    const lookup = { get: (name: string) => message.headers[name] ?? '' };
    expect(fromNats({ headers: lookup, data: message.data }).mode).toBe('binary');
    expect(fromNats({ headers: { get: () => '' }, data: message.data }).mode).toBe('plain');
  });

  test('structured mode, with or without a content type', () => {
    const message = toNatsStructured(event);
    expect(fromNats(message).mode).toBe('structured');
    expect(fromNats({ data: message.data }).event).toEqual(event);
  });

  test('a ce-type that disagrees with the body is refused', () => {
    const message = toNatsBinary(event);
    expect(() =>
      fromNats({
        headers: { ...message.headers, 'ce-type': 'dev.cdevents.build.started.0.3.0' },
        data: message.data,
      }),
    ).toThrow(BindingError);
  });
});
