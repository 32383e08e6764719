import type { MsgHdrs } from '@nats-io/nats-core';

/** Header lookups of a received message: the subset of MsgHdrs readers use. */
export interface HeaderReader {
  get(name: string): string;
}

const decoder = new TextDecoder();

/** The parts of nats.js's message classes this reads (public fields, by convention internal). */
interface RawMessage {
  readonly msg?: { readonly _rdata?: unknown; readonly _msg?: { readonly hdr?: unknown } };
}

/**
 * The headers of a received JetStream message as a plain map, read straight from its header block.
 * nats.js decodes headers into `MsgHdrs` by canonicalising and searching every key as it appends it
 * (about 5 kB of garbage for the ten headers of a raw Argus message); on the hub's hot path this reads
 * the same `NATS/1.0` block once. Lookups are exact, as `MsgHdrs.get` is; the first value of a name wins.
 * When the client's message shape is not the one expected, it falls back to `msg.headers`.
 */
export const receivedHeaders = (msg: {
  readonly headers?: MsgHdrs | undefined;
}): HeaderReader | undefined => {
  const inner = (msg as RawMessage).msg;
  const data = inner?._rdata;
  const length = inner?._msg?.hdr;
  if (!(data instanceof Uint8Array) || typeof length !== 'number') return msg.headers;
  if (length <= 0) return undefined;
  const text = decoder.decode(data.subarray(0, length));
  const values = new Map<string, string>();
  let start = text.indexOf('\r\n') + 2;
  if (start < 2) return msg.headers;
  while (start < text.length) {
    const end = text.indexOf('\r\n', start);
    const line = text.slice(start, end === -1 ? text.length : end);
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon > 0) {
      const name = line.slice(0, colon);
      if (!values.has(name)) values.set(name, line.slice(colon + 1).trim());
    }
    if (end === -1) break;
    start = end + 2;
  }
  return { get: (name) => values.get(name) ?? '' };
};
