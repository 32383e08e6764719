import { describe, expect, expectTypeOf, test } from 'vitest';
import {
  type CDEvent,
  type CDEventOf,
  createCustomEvent,
  createEvent,
  isCDEvent,
  serialize,
  ValidationError,
} from '../src/index.js';

const content = { environment: { id: 'prod' }, artifactId: 'pkg:oci/podinfo@sha256%3Aabc' };

describe('createEvent', () => {
  test('fills id and timestamp, validates, and freezes deeply', () => {
    const event = createEvent({ type: 'service.deployed', source: '/a', subject: { id: 's', content } });
    expect(event.context.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(event.context.timestamp)).not.toBeNaN();
    expect(event.context.specversion).toBe('0.5.1');
    expect(Object.isFrozen(event)).toBe(true);
    expect(Object.isFrozen(event.subject.content.environment)).toBe(true);
    expect(isCDEvent(event)).toBe(true);
  });

  test('v0.4.1 builds use context.version and subject.type', () => {
    const event = createEvent({
      type: 'pipelinerun.started',
      specVersion: '0.4.1',
      source: '/ci',
      subject: { id: 'r1', content: { pipelineName: 'build', url: 'https://ci/r1' } },
    });
    expect(event.context).toMatchObject({ version: '0.4.1', type: 'dev.cdevents.pipelinerun.started.0.2.0' });
    expect(event.subject.type).toBe('pipelineRun');
    expectTypeOf(event).toEqualTypeOf<Readonly<CDEventOf<'pipelinerun.started', '0.4.1'>>>();
  });

  test('required fields are enforced by the types, values by the schema', () => {
    expect(() =>
      createEvent({
        type: 'service.deployed',
        source: '/a',
        // @ts-expect-error artifactId is required for service.deployed
        subject: { id: 's', content: { environment: { id: 'prod' } } },
      }),
    ).toThrow(ValidationError);
    expect(() =>
      createEvent({
        type: 'pipelinerun.started',
        source: '/ci',
        // @ts-expect-error 0.5.1 pipelinerun.started takes uri, not url
        subject: { id: 'r', content: { pipelineName: 'b', url: 'x' } },
      }),
    ).toThrow(/subject\.content\.uri: is required/);
    expect(() =>
      createEvent({ type: 'service.deployed', source: 'has spaces', subject: { id: 's', content } }),
    ).toThrow(/context\.source: must be a URI reference/);
  });

  test('the input is copied: changing it later changes nothing', () => {
    const links = [{ linkType: 'RELATION' as const, linkKind: 'TRIGGER', target: { contextId: 'c1' } }];
    const event = createEvent({
      type: 'service.deployed',
      source: '/a',
      links,
      subject: { id: 's', content },
    });
    links[0] = { linkType: 'RELATION', linkKind: 'CHANGED', target: { contextId: 'c2' } };
    expect(event.context.links?.[0]).toMatchObject({ linkKind: 'TRIGGER' });
  });

  test('serialize is canonical: spec key order, same bytes for the same event', () => {
    const a = createEvent({
      type: 'service.deployed',
      id: 'x',
      timestamp: new Date('2026-01-01T00:00:00Z'),
      source: '/a',
      chainId: 'c',
      subject: { id: 's', content },
      customData: { b: 1 },
    });
    const { type, ...restOfContext } = a.context;
    const shuffled = JSON.parse(
      JSON.stringify({ subject: a.subject, customData: a.customData, context: { type, ...restOfContext } }),
    ) as CDEvent;
    expect(serialize(shuffled)).toBe(serialize(a));
    expect(Object.keys(JSON.parse(serialize(a)).context as object)).toEqual([
      'specversion',
      'id',
      'source',
      'type',
      'timestamp',
      'chainId',
    ]);
  });

  test('narrowing on context.type gives the subject content type', () => {
    const event: CDEvent = createEvent({
      type: 'service.deployed',
      source: '/a',
      subject: { id: 's', content },
    });
    if (event.context.type === 'dev.cdevents.service.deployed.0.3.0') {
      expectTypeOf(event.subject.content.artifactId).toEqualTypeOf<string>();
      expect(event.subject.content.artifactId).toBe(content.artifactId);
    } else {
      throw new Error('narrowing failed');
    }
  });
});

describe('createCustomEvent', () => {
  test('custom types follow the spec pattern; v0.4.1 adds subject.type from the type', () => {
    const event = createCustomEvent({
      type: 'dev.cdeventsx.argus-probe.checked.0.1.0',
      specVersion: '0.4.1',
      source: '/argus',
      subject: { id: 'p1', content: { anything: { goes: true } } },
    });
    expect(event.subject.type).toBe('argus-probe');
    expect(() =>
      createCustomEvent({
        type: 'dev.cdeventsx.badtype.x.10.0.0',
        source: '/a',
        subject: { id: 'p', content: {} },
      }),
    ).toThrow(/custom types must look like/);
  });
});
