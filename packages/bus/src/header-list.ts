import { Match, type MsgHdrs } from '@nats-io/nats-core';
import { BusError } from './errors.js';

const encoder = new TextEncoder();
/** Header names: printable ASCII without the colon (RFC 822 field names). */
const NAME = /^[!-9;-~]+$/;
const LINE_BREAK = /[\r\n]/;

/** `true` when `name` may be published as a header name (printable ASCII, no colon). */
export const isValidHeaderName = (name: string): boolean => NAME.test(name);

const same = (a: string, b: string, match: Match): boolean =>
  match === Match.IgnoreCase ? a.toLowerCase() === b.toLowerCase() : a === b;

/**
 * Outgoing message headers built for speed: a flat list of name/value pairs, encoded in one pass.
 * nats.js's `headers()` canonicalises and searches every key on each `set` (about 15 kB of garbage
 * for the fifteen headers of a unified-stream message); this list checks each name and value once.
 * Names are kept exactly as given. Meant for messages this process builds; read received headers
 * with the client's own `MsgHdrs`.
 */
export class HeaderList implements MsgHdrs {
  readonly #pairs: [string, string][] = [];
  code = 0;
  description = '';

  get hasError(): boolean {
    return this.code >= 300;
  }

  get status(): string {
    return `${this.code} ${this.description}`.trim();
  }

  append(name: string, value: string): void {
    if (!isValidHeaderName(name)) throw new BusError(`invalid header name ${JSON.stringify(name)}`);
    if (LINE_BREAK.test(value)) throw new BusError(`header ${name}: values cannot contain line breaks`);
    this.#pairs.push([name, value.trim()]);
  }

  set(name: string, value: string, match: Match = Match.Exact): void {
    this.delete(name, match);
    this.append(name, value);
  }

  get(name: string, match: Match = Match.Exact): string {
    return this.#pairs.find(([k]) => same(k, name, match))?.[1] ?? '';
  }

  last(name: string, match: Match = Match.Exact): string {
    return this.#pairs.findLast(([k]) => same(k, name, match))?.[1] ?? '';
  }

  has(name: string, match: Match = Match.Exact): boolean {
    return this.#pairs.some(([k]) => same(k, name, match));
  }

  values(name: string, match: Match = Match.Exact): string[] {
    return this.#pairs.filter(([k]) => same(k, name, match)).map(([, v]) => v);
  }

  keys(): string[] {
    return [...new Set(this.#pairs.map(([k]) => k))];
  }

  delete(name: string, match: Match = Match.Exact): void {
    for (let i = this.#pairs.length - 1; i >= 0; i--) {
      if (same(this.#pairs[i]![0], name, match)) this.#pairs.splice(i, 1);
    }
  }

  *[Symbol.iterator](): Iterator<[string, string[]]> {
    for (const key of this.keys()) yield [key, this.values(key)];
  }

  /** The NATS/1.0 header block, as the client's protocol writer calls it. */
  encode(): Uint8Array {
    let text =
      this.code > 0 && this.description !== '' ? `NATS/1.0 ${this.code} ${this.description}` : 'NATS/1.0';
    for (const [k, v] of this.#pairs) text += `\r\n${k}: ${v}`;
    return encoder.encode(`${text}\r\n\r\n`);
  }
}
