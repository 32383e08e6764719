import { createEvent, toNatsBinary, toNatsStructured } from '@argus/cdevents';
import { describe, expect, test } from 'vitest';
import { RejectedMessage } from '../src/index.js';
import { validateMessage } from '../src/pipeline/validate.js';

const event = createEvent({
  type: 'service.deployed',
  source: '/argocd/prod/podinfo',
  subject: { id: 'podinfo', content: { environment: { id: 'prod' }, artifactId: 'pkg:oci/podinfo' } },
});
const headersOf = (record: Record<string, string>) => ({ get: (name: string) => record[name] ?? '' });
const binary = toNatsBinary(event);
const encode = (text: string) => new TextEncoder().encode(text);

const reasonOf = (subject: string, data: Uint8Array, headers = headersOf({})) => {
  const result = validateMessage({ subject, data, headers }, 4096);
  return result instanceof RejectedMessage ? result.reason : 'valid';
};

describe('validateMessage', () => {
  test('accepts binary and structured mode on the matching subject', () => {
    const ok = validateMessage(
      { subject: 'cdevents.raw.i1.service.deployed', data: binary.data, headers: headersOf(binary.headers) },
      4096,
    );
    expect(ok).not.toBeInstanceOf(RejectedMessage);
    if (ok instanceof RejectedMessage) return;
    expect(ok.instance).toBe('i1');
    expect(ok.identity).toBe(binary.headers['Nats-Msg-Id']);
    const structured = toNatsStructured(event);
    expect(reasonOf('cdevents.raw.i1.service.deployed', structured.data, headersOf(structured.headers))).toBe(
      'valid',
    );
  });

  test('each kind of bad input gets its own reason', () => {
    const s = 'cdevents.raw.i1.service.deployed';
    expect(reasonOf(s, encode('{nope'))).toBe('malformed-json');
    expect(reasonOf(s, new Uint8Array([0xff, 0xfe, 0x7b]))).toBe('malformed-json');
    expect(reasonOf(s, encode('x'.repeat(5000)))).toBe('too-large');
    expect(reasonOf(s, encode('[]'))).toBe('not-an-event');
    const unknown = JSON.parse(JSON.stringify(event));
    unknown.context.type = 'dev.cdevents.service.exploded.0.3.0';
    expect(reasonOf(s, encode(JSON.stringify(unknown)))).toBe('unknown-type');
    const future = JSON.parse(JSON.stringify(event));
    future.context.type = 'dev.cdevents.service.deployed.0.9.0';
    expect(reasonOf(s, encode(JSON.stringify(future)))).toBe('unknown-type-version');
    const schema = JSON.parse(JSON.stringify(event));
    schema.subject.content.artifactId = '';
    expect(reasonOf(s, encode(JSON.stringify(schema)))).toBe('schema');
    expect(reasonOf('cdevents.raw.i1.incident.detected', binary.data)).toBe('subject-mismatch');
    expect(reasonOf('cdevents.raw.i1.service', binary.data)).toBe('bad-subject');
    expect(
      reasonOf(
        s,
        binary.data,
        headersOf({ ...binary.headers, 'ce-type': 'dev.cdevents.service.removed.0.3.0' }),
      ),
    ).toBe('binding');
  });

  test('deep nesting is refused as too-deep in every mode, never thrown at the batch', () => {
    const s = 'cdevents.raw.i1.service.deployed';
    const deep = JSON.stringify({ ...event, customData: { d: 0 } }).replace(
      '{"d":0}',
      `{"d":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    );
    const validate = (data: string, headers = headersOf({})) =>
      validateMessage({ subject: s, data: encode(data), headers }, 1_048_576);
    expect(validate(deep)).toMatchObject({ reason: 'too-deep', errorClass: 'NestingTooDeepError' });
    expect(validate(deep, headersOf(binary.headers))).toMatchObject({ reason: 'too-deep' });
    // Structured mode re-serializes the event: before the depth limit this threw a RangeError.
    const envelope = `{"specversion":"1.0","type":"${event.context.type}","data":${deep}}`;
    expect(validate(envelope)).toMatchObject({ reason: 'too-deep' });
  });
});
