import { readFile } from 'node:fs/promises';
import { OptionsError } from './errors.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port`, `:port` (all interfaces) or `[::1]:port`. Port 0 picks a free port. */
export const parseListen = (text: string, option = '--listen'): ListenAddress => {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || port > 65_535) {
    throw new OptionsError(
      `${option} ${JSON.stringify(text)} is not valid: expected host:port, e.g. 127.0.0.1:8080 or :8080`,
      option,
    );
  }
  return { host: m[1] ?? (m[2] === '' || m[2] === undefined ? '0.0.0.0' : m[2]), port };
};

export const formatListen = ({ host, port }: ListenAddress): string =>
  host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** `true` when a listener on this host is reachable only from this machine. */
export const isLoopback = (host: string): boolean => LOOPBACK.test(host);

/** A listener's TLS identity: PEM certificate (chain) and key. */
export interface ListenerTls {
  readonly cert: string;
  readonly key: string;
}

/** Reads `--tls-cert` and `--tls-key` (both or neither); undefined serves plain text. */
export const loadListenerTls = async (options: {
  readonly tlsCert?: string | undefined;
  readonly tlsKey?: string | undefined;
}): Promise<ListenerTls | undefined> => {
  if (options.tlsCert === undefined && options.tlsKey === undefined) return undefined;
  if (options.tlsCert === undefined || options.tlsKey === undefined)
    throw new OptionsError('--tls-cert and --tls-key go together: give both, or neither', '--tls-cert');
  const read = async (file: string, flag: string) => {
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      throw new OptionsError(`${flag} ${file}: ${(error as Error).message}`, flag);
    }
  };
  return { cert: await read(options.tlsCert, '--tls-cert'), key: await read(options.tlsKey, '--tls-key') };
};
