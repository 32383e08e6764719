import type { IncomingMessage } from 'node:http';

/**
 * A request body, or `undefined` as soon as it is known to exceed `limit` bytes (declared in
 * content-length, or counted while reading); reading stops there, so the caller answers 413 and
 * closes the connection. Not `for await`: leaving that loop destroys the socket before the answer
 * is written.
 */
export const readBodyWithin = (req: IncomingMessage, limit: number): Promise<Buffer | undefined> =>
  new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? Number.NaN) > limit) {
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.pause();
      resolve(undefined);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
