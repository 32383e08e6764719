import type { IncomingMessage } from 'node:http';
import { assertJsonContentType, authorize, readBody, TokenVerifier } from '@argus/runtime';

/** The caller's name when the receivers have no token: anyone who reaches the listener may post. */
const NOTIFICATIONS = 'notifications';

/** The token check of a receiver, built once; no token lets anyone post. */
export const notificationsVerifier = (token: string | undefined): TokenVerifier =>
  new TokenVerifier(token === undefined ? new Map() : new Map([[NOTIFICATIONS, token]]));

/**
 * What both Notifications receivers check before they read a post, in the shape of every HTTP
 * receiver (`@argus/runtime`): the bearer token, a JSON content type (or none: Argo CD
 * Notifications sends none unless the template sets one), and a body within `maxBodyBytes`.
 * Throws `HttpProblem`.
 */
export const receive = async (
  verifier: TokenVerifier,
  req: IncomingMessage,
  maxBodyBytes: number,
): Promise<Buffer> => {
  authorize(req, verifier, 'anyone', NOTIFICATIONS);
  assertJsonContentType(req);
  return readBody(req, maxBodyBytes);
};
