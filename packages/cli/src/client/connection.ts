import { readFileSync } from 'node:fs';
import { QueryServiceClient } from '@argus/query-api';
import type { OptionsSpec, ParsedOptions } from '@argus/runtime';
import { type CallOptions, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { type CommandIO, UsageError } from '../command.js';
import { DEFAULT_GRPC_PORT, hubAddress } from './address.js';

/** Query and ingest tokens are apart: `send` with a query token set got 403 (issue 12). */
export const QUERY_TOKEN_ENV = 'ARGUS_QUERY_TOKEN';
/** Read by query commands only, with a deprecation line: it used to serve `send` too. */
export const DEPRECATED_TOKEN_ENV = 'ARGUS_TOKEN';

/** Options every query command shares: where the hub is, how to authenticate, how to print. */
export const CLIENT_OPTIONS = {
  hub: {
    kind: 'string',
    description: `the hub's gRPC query API: host[:port] (port ${DEFAULT_GRPC_PORT}), or http:// / https:// (TLS) URL`,
    default: `127.0.0.1:${DEFAULT_GRPC_PORT}`,
    placeholder: '<host:port>',
  },
  token: {
    env: false,
    kind: 'string',
    description: `bearer token of the query API [${QUERY_TOKEN_ENV}]`,
    placeholder: '<token>',
  },
  output: {
    kind: 'string',
    description: 'table for people, json for one JSON object per line',
    default: 'table',
    choices: ['table', 'json'],
    placeholder: '<table|json>',
  },
  timeout: { kind: 'duration', description: 'deadline of each call', default: 10_000, min: 100 },
  tls: { kind: 'boolean', description: "connect over TLS, trusting the system's CAs" },
  tlsCa: {
    kind: 'string',
    description: "connect over TLS, trusting this CA (PEM) for the hub's certificate",
    placeholder: '<file>',
  },
} as const satisfies OptionsSpec;

export type ClientOptions = ParsedOptions<typeof CLIENT_OPTIONS>;

/** A connected client plus what each call needs: metadata with the token, a fresh deadline. */
export interface Connection {
  readonly client: QueryServiceClient;
  readonly metadata: Metadata;
  callOptions(): Partial<CallOptions>;
  close(): void;
}

/**
 * The query token: `--token`, else ARGUS_QUERY_TOKEN, else the deprecated ARGUS_TOKEN (with a line
 * on stderr saying what to set instead).
 */
export const queryToken = (
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  warn: (text: string) => void,
): string | undefined => {
  if (flag !== undefined && flag !== '') return flag;
  const query = env[QUERY_TOKEN_ENV];
  if (query !== undefined && query !== '') return query;
  const old = env[DEPRECATED_TOKEN_ENV];
  if (old === undefined || old === '') return undefined;
  warn(
    `argus: ${DEPRECATED_TOKEN_ENV} is deprecated: set ${QUERY_TOKEN_ENV} for queries and ARGUS_INGEST_TOKEN for send\n`,
  );
  return old;
};

export const connect = (options: ClientOptions, io: Pick<CommandIO, 'env' | 'stderr'>): Connection => {
  const address = hubAddress(options.hub);
  if (address.scheme === 'http' && (options.tls || options.tlsCa !== undefined))
    throw new UsageError('--hub http:// is plain text: use https:// (or host:port) with --tls or --tls-ca');
  const tls = address.scheme === 'https' || options.tls || options.tlsCa !== undefined;
  const channel =
    options.tlsCa !== undefined
      ? credentials.createSsl(readFileSync(options.tlsCa))
      : tls
        ? credentials.createSsl()
        : credentials.createInsecure();
  const client = new QueryServiceClient(address.target, channel);
  const metadata = new Metadata();
  const token = queryToken(options.token, io.env, io.stderr);
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  return {
    client,
    metadata,
    callOptions: () => ({ deadline: Date.now() + options.timeout }),
    close: () => client.close(),
  };
};

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/** One unary call with the connection's token and deadline, as a promise. */
export const unary = <Req, Res>(
  connection: Connection,
  method: UnaryMethod<Req, Res>,
  request: Req,
): Promise<Res> =>
  new Promise((resolve, reject) => {
    method.call(
      connection.client,
      request,
      connection.metadata,
      connection.callOptions(),
      (error, response) => (error === null ? resolve(response) : reject(error)),
    );
  });

export const isServiceError = (error: unknown): error is ServiceError =>
  error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number' && 'metadata' in error;

/** `UNAUTHENTICATED: unknown token`, with a hint where one helps. */
export const describeServiceError = (error: ServiceError, hub: string): string => {
  const name = status[error.code] ?? String(error.code);
  const detail = error.details || error.message;
  if (error.code === status.UNAVAILABLE) return `${name}: cannot reach the hub at ${hub} (${detail})`;
  if (error.code === status.DEADLINE_EXCEEDED)
    return `${name}: the hub at ${hub} did not answer in time (raise --timeout)`;
  if (error.code === status.UNAUTHENTICATED) return `${name}: ${detail}`;
  return `${name}: ${detail}`;
};
