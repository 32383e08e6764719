import { readFile } from 'node:fs/promises';
import { OptionsError } from './errors.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** The flag it came from, named when binding fails. */
  readonly option?: string;
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
  return { host: m[1] ?? (m[2] === '' || m[2] === undefined ? '0.0.0.0' : m[2]), port, option };
};

export const formatListen = ({ host, port }: ListenAddress): string =>
  host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;

const BIND_HINTS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'another process is already listening there; stop it or choose a free port',
  EADDRNOTAVAIL: 'no interface of this machine has that address',
  EACCES: 'ports below 1024 need privileges; choose a port above 1023',
};

/** The error for a listener that could not bind, naming the address, the flag and what to do. */
export const listenFailure = (address: ListenAddress, cause: unknown): OptionsError => {
  // grpc-js folds the errno into its message instead of setting `code`.
  const message = cause instanceof Error ? cause.message : String(cause);
  const code =
    (cause as NodeJS.ErrnoException).code ?? /\b(EADDRINUSE|EADDRNOTAVAIL|EACCES)\b/.exec(message)?.[1];
  const detail = (code !== undefined && BIND_HINTS[code]) || message;
  const option = address.option ?? '--listen';
  return new OptionsError(`cannot listen on ${formatListen(address)} (${option}): ${detail}`, option);
};

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
