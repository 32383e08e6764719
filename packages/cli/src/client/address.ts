import { UsageError } from '../command.js';

/** The port of `--hub host` without one: the hub's --grpc-listen default. */
export const DEFAULT_GRPC_PORT = 50051;

export interface HubAddress {
  /** host:port as grpc-js dials it. */
  readonly target: string;
  /** The scheme given, if any: https means TLS. */
  readonly scheme: 'http' | 'https' | undefined;
}

const SCHEME_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * `--hub` as a dial target: `host` means port 50051 (the hub's default), `host:port` and `[::1]:port`
 * as given, `http://host[:port]` plain text and `https://host[:port]` TLS (ports 80 and 443 by
 * default, as behind an ingress). Anything else, a path for one, is a usage error with the forms.
 */
export const hubAddress = (value: string): HubAddress => {
  const hint = `--hub takes host, host:port, http://host[:port] or https://host[:port], got ${JSON.stringify(value)}`;
  const text = value.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new UsageError(hint);
    }
    const port = SCHEME_PORTS[url.protocol];
    if (
      port === undefined ||
      (url.pathname !== '/' && url.pathname !== '') ||
      url.search !== '' ||
      url.username !== ''
    )
      throw new UsageError(hint);
    return {
      target: `${url.hostname}:${url.port === '' ? port : url.port}`,
      scheme: url.protocol === 'https:' ? 'https' : 'http',
    };
  }
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/i.exec(text);
  if (bracketed !== null)
    return { target: `[${bracketed[1]}]:${bracketed[2] ?? DEFAULT_GRPC_PORT}`, scheme: undefined };
  const plain = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(text);
  if (plain === null) throw new UsageError(hint);
  return { target: `${plain[1]}:${plain[2] ?? DEFAULT_GRPC_PORT}`, scheme: undefined };
};
