import { readFileSync } from 'node:fs';
import { QueryServiceClient } from '@argus/query-api';
import type { OptionsSpec, ParsedOptions } from '@argus/runtime';
import { type CallOptions, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';

/** Options every query command shares: where the hub is, how to authenticate, how to print. */
export const CLIENT_OPTIONS = {
  hub: {
    kind: 'string',
    description: "the hub's gRPC query API",
    default: '127.0.0.1:50051',
    placeholder: '<host:port>',
  },
  token: { kind: 'string', description: 'bearer token of the query API', placeholder: '<token>' },
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

export const connect = (options: ClientOptions): Connection => {
  const channel =
    options.tlsCa !== undefined
      ? credentials.createSsl(readFileSync(options.tlsCa))
      : options.tls
        ? credentials.createSsl()
        : credentials.createInsecure();
  const client = new QueryServiceClient(options.hub, channel);
  const metadata = new Metadata();
  if (options.token !== undefined) metadata.set('authorization', `Bearer ${options.token}`);
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
