import { createServer } from 'node:net';

/** A TCP port free right now on `host` (the OS picks it; a tiny race remains until it is bound). */
export const freePort = (host = '127.0.0.1'): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

/** `n` distinct free ports. */
export const freePorts = async (n: number, host = '127.0.0.1'): Promise<number[]> => {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort(host));
  return [...ports];
};
