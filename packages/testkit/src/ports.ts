import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/*
 * Why not listen(0): the OS hands out ports from the ephemeral range, the same range every outgoing
 * connection takes its local port from. Between releasing the probe and the real server binding it,
 * any connect() on the machine (other tests, a nats client reconnecting) can take that port, and the
 * server dies with EADDRINUSE. Ports are therefore drawn below the ephemeral range, where only an
 * explicit bind can land, and never handed out twice by one process.
 */

const FALLBACK_EPHEMERAL_START = 32768;
const LOWEST = 10_000;

const ephemeralStart = (): number => {
  try {
    const first = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    return Number.isInteger(first) && first > LOWEST + 1000 ? first : FALLBACK_EPHEMERAL_START;
  } catch {
    return FALLBACK_EPHEMERAL_START;
  }
};

const handedOut = new Set<number>();
let range: { low: number; high: number } | undefined;

const canBind = (port: number, host: string): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });

/**
 * A TCP port free right now on `host`, drawn below the OS's ephemeral range so that no outgoing
 * connection can take it before the caller binds it. Only another explicit bind can still race.
 */
export const freePort = async (host = '127.0.0.1'): Promise<number> => {
  range ??= { low: LOWEST, high: ephemeralStart() - 1 };
  const span = range.high - range.low + 1;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = range.low + Math.floor(Math.random() * span);
    if (handedOut.has(port)) continue;
    if (await canBind(port, host)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port found on ${host} between ${range.low} and ${range.high} after 200 tries`);
};

/** `n` distinct free ports. */
export const freePorts = async (n: number, host = '127.0.0.1'): Promise<number[]> => {
  const ports: number[] = [];
  while (ports.length < n) ports.push(await freePort(host));
  return ports;
};
