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
