import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExtraRoute } from './health.js';
import { readBodyWithin } from './http-body.js';
import { isLoopback } from './listen.js';
import { bearerToken, type TokenVerifier } from './tokens.js';

/**
 * A refusal of an HTTP receiver (hub ingest, agent webhooks): its status and the JSON body every
 * receiver answers with, `{ error, reason?, ...details }`.
 */
export class HttpProblem extends Error {
  override name = 'HttpProblem';
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** The request body was left unread: answer, then close the connection. */
  readonly close: boolean;
  /** Seconds a rate-limited client should wait (`Retry-After`). */
  readonly retryAfter: number | undefined;
  constructor(
    status: number,
    message: string,
    extra: Record<string, unknown> = {},
    options: { readonly close?: boolean; readonly retryAfter?: number } = {},
  ) {
    super(message);
    this.status = status;
    this.body = { error: message, ...extra };
    this.close = options.close ?? false;
    this.retryAfter = options.retryAfter;
  }
}

/** A JSON answer. */
export const answerJson = (res: ServerResponse, status: number, body: Record<string, unknown>): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

const sendProblem = (req: IncomingMessage, res: ServerResponse, problem: HttpProblem): void => {
  if (!res.headersSent) {
    res.writeHead(problem.status, {
      'content-type': 'application/json',
      // The client must not send its next request on a connection whose body was not read.
      ...(problem.close ? { connection: 'close' } : {}),
      ...(problem.retryAfter === undefined ? {} : { 'retry-after': String(problem.retryAfter) }),
    });
  }
  res.end(JSON.stringify(problem.body), () => {
    if (problem.close) req.destroy();
  });
};

/**
 * Who may post when no token is configured: `anyone` who can reach the listener (the agent's
 * webhooks, where the operator chose no token), or `loopback` clients only (the hub's ingest).
 */
export type AnonymousPolicy = 'anyone' | 'loopback';

/**
 * The caller's name: the name of its bearer token, or `anonymousName` when no token is configured
 * and the policy lets it in. 401 without a token (or off loopback), 403 with an unknown one.
 */
export const authorize = (
  req: IncomingMessage,
  verifier: TokenVerifier,
  anonymous: AnonymousPolicy,
  anonymousName: string,
): string => {
  if (verifier.empty) {
    if (anonymous === 'anyone') return anonymousName;
    if (isLoopback(req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '')) return anonymousName;
    throw new HttpProblem(401, 'no tokens are configured: only clients on this machine may post');
  }
  const token = bearerToken(req.headers.authorization);
  if (token === undefined)
    throw new HttpProblem(401, 'missing bearer token: send Authorization: Bearer <token>');
  const name = verifier.verify(token);
  if (name === undefined) throw new HttpProblem(403, 'unknown token');
  return name;
};

/**
 * A JSON media type, or none: Argo CD Notifications sends none unless the template sets one, and a
 * body is parsed as JSON whatever it says. A declared non-JSON type is refused (415).
 */
export const assertJsonContentType = (req: IncomingMessage): void => {
  const contentType = req.headers['content-type'];
  if (contentType === undefined || contentType === '' || /json/i.test(contentType)) return;
  throw new HttpProblem(
    415,
    `content type ${JSON.stringify(contentType)} is not accepted: send application/json, application/cloudevents+json or application/cloudevents-batch+json`,
  );
};

const tooLarge = (limit: number): HttpProblem =>
  new HttpProblem(413, `body exceeds the limit of ${limit} bytes`, { reason: 'too-large' }, { close: true });

/**
 * 413 (connection closed, body unread) when the declared content-length exceeds `limit`: a check
 * that costs no memory, for receivers that refuse more before reading the body.
 */
export const assertDeclaredLength = (req: IncomingMessage, limit: number): void => {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
};

/** The request body, or 413 (and the connection closed) as soon as it exceeds `limit` bytes. */
export const readBody = async (req: IncomingMessage, limit: number): Promise<Buffer> => {
  const body = await readBodyWithin(req, limit);
  if (body === undefined) throw tooLarge(limit);
  return body;
};

/**
 * The route of a receiver: its path, POST only (405), and every `HttpProblem` thrown by `handle`
 * answered in the one JSON shape (`onRefused` sees it first, for logs and metrics). Other errors
 * propagate: they are bugs, answered 500 by the server.
 */
export const receiverRoute = (
  path: string,
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  onRefused: (problem: HttpProblem) => void = () => undefined,
): ExtraRoute => {
  return async (req, res) => {
    if ((req.url ?? '/').split('?')[0] !== path) return false;
    try {
      if (req.method !== 'POST') throw new HttpProblem(405, `use POST for ${path}`);
      await handle(req, res);
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      onRefused(error);
      sendProblem(req, res, error);
    }
    return true;
  };
};
