import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken, readBodyWithin, TokenVerifier } from '@argus/runtime';

/** What both Notifications receivers check before they read a post. */
export interface ReceiverRules {
  readonly path: string;
  /** Required `Authorization: Bearer` token; when absent, any caller that can reach the listener may post. */
  readonly token?: string | undefined;
  readonly maxBytes: number;
}

export const answer = (res: ServerResponse, status: number, body: Record<string, unknown>): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

/**
 * The shape of every Notifications receiver: its path, POST, the bearer token, a JSON content type
 * (Argo CD Notifications sends none unless the template sets one: absent is fine, a declared
 * non-JSON one is refused), and a body within the limit (413, connection closed, otherwise).
 * Returns the body, or `'other'` for a request that is not for this path, or `'answered'`.
 */
export const receive = async (
  rules: ReceiverRules,
  verifier: TokenVerifier | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<Buffer | 'other' | 'answered'> => {
  if ((req.url ?? '').split('?')[0] !== rules.path) return 'other';
  if (req.method !== 'POST') {
    answer(res, 405, { error: `use POST for ${rules.path}` });
    return 'answered';
  }
  if (verifier !== undefined) {
    const presented = bearerToken(req.headers.authorization);
    if (presented === undefined || verifier.verify(presented) === undefined) {
      answer(res, 401, { error: 'missing or wrong bearer token' });
      return 'answered';
    }
  }
  const contentType = req.headers['content-type'];
  // The same rule as the hub's ingest: any JSON media type.
  if (contentType !== undefined && contentType !== '' && !/json/i.test(contentType)) {
    answer(res, 415, {
      error: `content type ${JSON.stringify(contentType)} is not accepted: send a JSON type (application/json, application/cloudevents+json)`,
    });
    return 'answered';
  }
  const body = await readBodyWithin(req, rules.maxBytes + 4096);
  if (body === undefined) {
    // Close the connection once the answer is out: the rest of the body is never read, so the
    // client must not send its next request on this connection.
    res
      .writeHead(413, { 'content-type': 'application/json', connection: 'close' })
      .end(JSON.stringify({ error: `body exceeds ${rules.maxBytes} bytes` }), () => req.destroy());
    return 'answered';
  }
  return body;
};

/** The token check of a receiver, built once. */
export const notificationsVerifier = (token: string | undefined): TokenVerifier | undefined =>
  token === undefined ? undefined : new TokenVerifier(new Map([['notifications', token]]));
