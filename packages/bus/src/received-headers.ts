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

/** The `NATS/1.0` header block of a received message, or `null` without one, or `undefined` when the client's message shape is not the expected one. */
const headerBlock = (msg: object): string | null | undefined => {
  const inner = (msg as RawMessage).msg;
  const data = inner?._rdata;
  const length = inner?._msg?.hdr;
  if (!(data instanceof Uint8Array) || typeof length !== 'number') return undefined;
  if (length <= 0) return null;
  return decoder.decode(data.subarray(0, length));
};

/** Each `name: value` line of a header block after the status line, in order; `undefined` if the block has no status line. */
const forEachLine = (text: string, visit: (name: string, value: string) => void): boolean => {
  let start = text.indexOf('\r\n') + 2;
  if (start < 2) return false;
  while (start < text.length) {
    const end = text.indexOf('\r\n', start);
    const line = text.slice(start, end === -1 ? text.length : end);
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon > 0) visit(line.slice(0, colon), line.slice(colon + 1).trim());
    if (end === -1) break;
    start = end + 2;
  }
  return true;
};

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
  const text = headerBlock(msg);
  if (text === undefined) return msg.headers;
  if (text === null) return undefined;
  const values = new Map<string, string>();
  const parsed = forEachLine(text, (name, value) => {
    if (!values.has(name)) values.set(name, value);
  });
  if (!parsed) return msg.headers;
  return { get: (name) => values.get(name) ?? '' };
};

/**
 * Every header of a received message as `[name, value]` pairs, in order and as sent. Unlike
 * `msg.headers`, which throws on a name nats.js would not build (nats-server passes any block
 * through), this never refuses a message: what to do with odd names is the caller's choice.
 */
export const receivedHeaderPairs = (msg: { readonly headers?: MsgHdrs | undefined }): [string, string][] => {
  const pairs: [string, string][] = [];
  const text = headerBlock(msg);
  if (text === null) return pairs;
  if (text !== undefined && forEachLine(text, (name, value) => pairs.push([name, value]))) return pairs;
  try {
    for (const [name, values] of msg.headers ?? []) for (const value of values) pairs.push([name, value]);
  } catch {
    // The client could not decode them either: the dead letter goes without them.
  }
  return pairs;
};
