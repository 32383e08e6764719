import type { ServerResponse } from 'node:http';
import { expect, test } from 'vitest';
import { StreamWire } from '../src/api-stream.js';

/** Just what StreamWire uses of a ServerResponse. */
const fakeResponse = () => {
  const written: string[] = [];
  const res = {
    statusCode: 0,
    headersSent: false,
    setHeader: () => res,
    write: (chunk: string) => written.push(chunk) > 0,
    end: (chunk: string) => written.push(chunk),
  };
  return { res: res as unknown as ServerResponse, written };
};

test('a message identical to the last one for the same app name is suppressed (forwarders.go NewStreamForwarder, key = application name)', () => {
  const { res, written } = fakeResponse();
  const wire = new StreamWire(res, { sse: false });
  expect(wire.result('a', { type: 'MODIFIED', v: 1 })).toBe(true);
  expect(wire.result('a', { type: 'MODIFIED', v: 1 })).toBe(false);
  expect(wire.result('b', { type: 'MODIFIED', v: 1 })).toBe(true);
  expect(wire.result('a', { type: 'MODIFIED', v: 2 })).toBe(true);
  expect(written).toHaveLength(3);
});
