import { describe, expect, test } from 'vitest';
import { ConversionError, convert, createCustomEvent, createEvent } from '../src/index.js';

describe('convert', () => {
  test('renames url/uri, maps outcomes, sets subject.type and the type version', () => {
    const v04 = createEvent({
      type: 'testcaserun.finished',
      specVersion: '0.4.1',
      id: 't1',
      source: 'ci',
      timestamp: '2026-01-01T00:00:00Z',
      subject: { id: 'tc', content: { outcome: 'pass', environment: { id: 'ci' } } },
    });
    const v05 = convert(v04, '0.5.1');
    expect(v05.context).toMatchObject({
      specversion: '0.5.1',
      type: 'dev.cdevents.testcaserun.finished.0.3.0',
    });
    expect(v05.subject).toEqual({ id: 'tc', content: { outcome: 'success', environment: { id: 'ci' } } });
    expect(convert(v05, '0.4.1')).toEqual(v04);
    const env = createEvent({
      type: 'environment.created',
      specVersion: '0.4.1',
      source: '/a',
      subject: { id: 'e', content: { url: 'https://e.example' } },
    });
    expect(convert(env, '0.5.1').subject.content).toEqual({ uri: 'https://e.example' });
  });

  test('no lossless mapping: a free-text url, an outcome 0.5.1 does not know', () => {
    const env = createEvent({
      type: 'environment.created',
      specVersion: '0.4.1',
      source: '/a',
      subject: { id: 'e', content: { url: 'staging cluster' } },
    });
    const error = (() => {
      try {
        convert(env, '0.5.1');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConversionError);
    expect((error as ConversionError).issues[0]?.path).toBe('subject.content.uri');
    const run = createEvent({
      type: 'pipelinerun.finished',
      specVersion: '0.4.1',
      source: '/a',
      subject: { id: 'r', content: { outcome: 'flaky' } },
    });
    expect(() => convert(run, '0.5.1')).toThrow(
      /subject\.content\.outcome: must be one of success, failure, cancel, error/,
    );
  });

  test('the input is untouched and the same version is a copy', () => {
    const event = createEvent({ type: 'build.started', source: '/ci', subject: { id: 'b', content: {} } });
    const copy = convert(event, '0.5.1');
    expect(copy).toEqual(event);
    expect(copy).not.toBe(event);
  });

  test('custom events keep their type; subject.type comes and goes', () => {
    const custom = createCustomEvent({
      type: 'dev.cdeventsx.argus-probe.checked.0.1.0',
      source: '/a',
      subject: { id: 'p', content: { x: 1 } },
    });
    const old = convert(custom, '0.4.1');
    expect((old.subject as { type?: string }).type).toBe('argus-probe');
    expect(convert(old, '0.5.1')).toEqual(custom);
  });
});
