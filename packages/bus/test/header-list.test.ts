import { Match, MsgHdrsImpl } from '@nats-io/nats-core';
import { describe, expect, test } from 'vitest';
import { BusError } from '../src/errors.js';
import { HeaderList } from '../src/index.js';

describe('HeaderList', () => {
  test('encodes a header block the NATS client decodes to the same names and values', () => {
    const h = new HeaderList();
    h.set('ce-id', 'a1');
    h.set('Nats-Msg-Id', 'digest');
    h.append('Argus-Labels', '{"team":"payments"}');
    h.set('ce-id', 'a2');
    const decoded = MsgHdrsImpl.decode(h.encode());
    expect(decoded.get('ce-id')).toBe('a2');
    expect(decoded.get('Nats-Msg-Id')).toBe('digest');
    expect(decoded.get('Argus-Labels')).toBe('{"team":"payments"}');
    expect(new TextDecoder().decode(h.encode())).toBe(
      'NATS/1.0\r\nNats-Msg-Id: digest\r\nArgus-Labels: {"team":"payments"}\r\nce-id: a2\r\n\r\n',
    );
  });

  test('reads like MsgHdrs: exact and case-insensitive lookups, values, keys, delete', () => {
    const h = new HeaderList();
    h.append('X-A', '1');
    h.append('X-A', '2');
    expect(h.get('X-A')).toBe('1');
    expect(h.last('X-A')).toBe('2');
    expect(h.values('X-A')).toEqual(['1', '2']);
    expect(h.get('x-a')).toBe('');
    expect(h.get('x-a', Match.IgnoreCase)).toBe('1');
    expect(h.keys()).toEqual(['X-A']);
    expect([...h]).toEqual([['X-A', ['1', '2']]]);
    h.delete('X-A');
    expect(h.has('X-A')).toBe(false);
  });

  test('refuses names and values that would break the header block', () => {
    const h = new HeaderList();
    expect(() => h.set('bad name', 'x')).toThrow(BusError);
    expect(() => h.set('a:b', 'x')).toThrow(BusError);
    expect(() => h.set('ok', 'line\r\nInjected: yes')).toThrow(/line breaks/);
  });
});
