import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { HttpStatusError, SourceProtocolError, TlsVerificationError } from '../errors.js';

export { HttpStatusError, TlsVerificationError };

export interface HttpClientOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  /** PEM of a CA to trust (a self-signed Argo CD or API server). */
  readonly ca?: string | Buffer | undefined;
  /** Skip TLS verification (labs only). */
  readonly insecure?: boolean;
  /** Client certificate and key (kubeconfig users). */
  readonly cert?: string | Buffer | undefined;
  readonly key?: string | Buffer | undefined;
}

const CERTIFICATE_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const open = (
  url: URL,
  options: HttpClientOptions,
  signal: AbortSignal | undefined,
  accept = 'application/json',
): Promise<IncomingMessage> =>
  new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const tls = url.protocol === 'https:';
    const common = { method: 'GET', headers, ...(signal === undefined ? {} : { signal }) };
    const req = tls
      ? httpsRequest(url, {
          ...common,
          ...(options.ca === undefined ? {} : { ca: options.ca }),
          ...(options.cert === undefined ? {} : { cert: options.cert }),
          ...(options.key === undefined ? {} : { key: options.key }),
          rejectUnauthorized: options.insecure !== true,
        })
      : httpRequest(url, common);
    req.on('response', resolve);
    req.on('error', (error: NodeJS.ErrnoException) =>
      reject(CERTIFICATE_ERRORS.has(error.code ?? '') ? new TlsVerificationError(url, error) : error),
    );
    req.end();
  });

const readAll = async (res: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

/** GET a JSON document. */
export const getJson = async <T>(url: URL, options: HttpClientOptions, signal?: AbortSignal): Promise<T> => {
  const res = await open(url, options, signal);
  const body = await readAll(res);
  if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300)
    throw new HttpStatusError(res.statusCode ?? 0, url.toString(), body);
  return JSON.parse(body) as T;
};

/**
 * Opens a stream of newline-delimited JSON values: resolves once the response headers arrived (the
 * server is watching), with the values to iterate as they come.
 */
export const openJsonLines = async (
  url: URL,
  options: HttpClientOptions,
  signal?: AbortSignal,
  accept?: string,
): Promise<AsyncGenerator<unknown>> => {
  const res = await open(url, options, signal, accept);
  if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) {
    throw new HttpStatusError(res.statusCode ?? 0, url.toString(), await readAll(res));
  }
  return jsonLines(res);
};

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const ITEMS_KEY = /"items"\s*:\s*$/;

/**
 * Splits a JSON list document (`{"metadata": {...}, "items": [{...}, ...]}`, as Argo CD and Kubernetes
 * answer a list) into its items as bytes arrive, so a list of thousands of Applications is never one
 * string nor one parsed array: each item is parsed alone, and only the envelope (the document without
 * its items) is kept. Structural bytes are ASCII and never occur inside a multi-byte UTF-8 sequence, so
 * the document is scanned as bytes.
 */
export class JsonListSplitter {
  #depth = 0;
  #inString = false;
  #escape = false;
  /** Directly inside the top-level `items` array. */
  #inItems = false;
  #itemsSeen = false;
  #item: Buffer[] = [];
  #inItem = false;
  #envelope: Buffer[] = [];

  /** The items completed by this chunk, parsed. */
  push(chunk: Buffer): unknown[] {
    const items: unknown[] = [];
    let envelopeFrom = this.#inItems ? -1 : 0;
    let itemFrom = this.#inItem ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (this.#inString) {
        if (this.#escape) this.#escape = false;
        else if (c === BACKSLASH) this.#escape = true;
        else if (c === QUOTE) this.#inString = false;
        continue;
      }
      if (c === QUOTE) {
        this.#inString = true;
      } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        this.#depth++;
        if (this.#inItems) {
          if (this.#depth === 3 && !this.#inItem) {
            this.#inItem = true;
            itemFrom = i;
          }
        } else if (c === OPEN_ARRAY && this.#depth === 2 && !this.#itemsSeen) {
          this.#envelope.push(chunk.subarray(envelopeFrom, i + 1));
          if (ITEMS_KEY.test(Buffer.concat(this.#envelope).toString('utf8', 0).slice(0, -1))) {
            this.#inItems = true;
            this.#itemsSeen = true;
            envelopeFrom = -1;
          } else {
            envelopeFrom = i + 1;
          }
        }
      } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        this.#depth--;
        if (this.#inItems) {
          if (this.#inItem && this.#depth === 2) {
            this.#item.push(chunk.subarray(itemFrom, i + 1));
            items.push(JSON.parse(Buffer.concat(this.#item).toString('utf8')));
            this.#item = [];
            this.#inItem = false;
            itemFrom = -1;
          } else if (this.#depth === 1) {
            // The items array closed: the envelope resumes with its closing bracket.
            this.#inItems = false;
            envelopeFrom = i;
          }
        }
      }
    }
    if (this.#inItem && itemFrom >= 0) this.#item.push(chunk.subarray(itemFrom));
    if (envelopeFrom >= 0 && envelopeFrom < chunk.length) this.#envelope.push(chunk.subarray(envelopeFrom));
    return items;
  }

  /** The document without its items (`"items": []`); throws if the document was cut short. */
  end(): Record<string, unknown> {
    if (this.#depth !== 0 || this.#inString || this.#envelope.length === 0) {
      throw new SourceProtocolError('list-cut-short', 'the list response ended before its JSON document did');
    }
    return JSON.parse(Buffer.concat(this.#envelope).toString('utf8')) as Record<string, unknown>;
  }
}

/** A list being read: its items as they arrive, then its envelope (metadata) once they are consumed. */
export interface JsonList {
  readonly items: AsyncIterable<unknown>;
  /** Items read so far. */
  readonly count: number;
  /** Set when every item has been read and the document was complete. */
  readonly envelope: Record<string, unknown> | undefined;
}

/** GET a JSON list (Argo CD, Kubernetes), to iterate item by item: resolves once the answer is 2xx. */
export const openJsonList = async (
  url: URL,
  options: HttpClientOptions,
  signal?: AbortSignal,
): Promise<JsonList> => {
  const res = await open(url, options, signal);
  if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) {
    throw new HttpStatusError(res.statusCode ?? 0, url.toString(), await readAll(res));
  }
  const list: {
    items?: AsyncIterable<unknown>;
    count: number;
    envelope: Record<string, unknown> | undefined;
  } = { count: 0, envelope: undefined };
  async function* items(): AsyncGenerator<unknown> {
    const splitter = new JsonListSplitter();
    for await (const chunk of res) {
      for (const item of splitter.push(chunk as Buffer)) {
        list.count++;
        yield item;
      }
    }
    list.envelope = splitter.end();
  }
  list.items = items();
  return list as JsonList;
};

/** GET a stream of newline-delimited JSON values, yielded as they arrive. */
export async function* streamJsonLines(
  url: URL,
  options: HttpClientOptions,
  signal?: AbortSignal,
): AsyncGenerator<unknown> {
  yield* await openJsonLines(url, options, signal);
}

async function* jsonLines(res: IncomingMessage): AsyncGenerator<unknown> {
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of res) {
    buffer += decoder.decode(chunk as Buffer, { stream: true });
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      const value = jsonOfLine(line);
      if (value !== undefined) yield value;
      newline = buffer.indexOf('\n');
    }
  }
  const rest = jsonOfLine(buffer.trim());
  if (rest !== undefined) yield rest;
}

/**
 * One line of newline-delimited JSON, or of Server-Sent Events as Argo CD's gateway writes them for
 * `Accept: text/event-stream` (argoproj/pkg grpc/http/forwarders.go): `data: <json> ` then a blank
 * line, and `:` keepalives every 15 s. Undefined for a line that carries nothing.
 */
const jsonOfLine = (line: string): unknown => {
  if (line === '' || line.startsWith(':')) return undefined;
  return JSON.parse(line.startsWith('data:') ? line.slice('data:'.length) : line);
};
