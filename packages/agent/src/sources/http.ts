import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

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

/** An HTTP status other than 2xx, with the server's message. */
export class HttpStatusError extends Error {
  override name = 'HttpStatusError';
  readonly status: number;
  readonly url: string;
  constructor(status: number, url: string, body: string) {
    super(`${url} answered ${status}: ${body.slice(0, 300)}`);
    this.status = status;
    this.url = url;
  }
}

const open = (
  url: URL,
  options: HttpClientOptions,
  signal: AbortSignal | undefined,
): Promise<IncomingMessage> =>
  new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'application/json' };
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
    req.on('error', reject);
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
): Promise<AsyncGenerator<unknown>> => {
  const res = await open(url, options, signal);
  if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) {
    throw new HttpStatusError(res.statusCode ?? 0, url.toString(), await readAll(res));
  }
  return jsonLines(res);
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
      if (line !== '') yield JSON.parse(line);
      newline = buffer.indexOf('\n');
    }
  }
  const rest = buffer.trim();
  if (rest !== '') yield JSON.parse(rest);
}
