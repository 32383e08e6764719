import { type Agent, request } from 'node:http';

export interface PostRawOptions {
  readonly headers?: Record<string, string>;
  /** Stream the body in 1 KiB chunks without a content-length. */
  readonly chunked?: boolean;
  /** The HTTP agent: keep-alive behaviour across requests is what some tests are about. */
  readonly agent?: Agent;
}

export interface PostRawResult {
  /** The status, or 0 when the request failed (see error). */
  readonly status: number;
  readonly text: string;
  /** The error code (ECONNRESET, EPIPE, ...) when the request failed. */
  readonly error?: string;
}

/**
 * One POST through node:http, without fetch's buffering: a body declared with content-length, or streamed
 * chunked. Resolves with the status and text, or status 0 and the error code; never rejects.
 */
export const postRaw = (url: string, body: Buffer, options: PostRawOptions = {}): Promise<PostRawResult> =>
  new Promise((resolve) => {
    const headers = options.headers ?? {};
    const req = request(
      url,
      {
        method: 'POST',
        ...(options.agent === undefined ? {} : { agent: options.agent }),
        headers: options.chunked ? headers : { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, text: '', error: err.code ?? '' }));
    if (!options.chunked) {
      req.end(body);
      return;
    }
    for (let at = 0; at < body.length; at += 1024) req.write(body.subarray(at, at + 1024));
    req.end();
  });
