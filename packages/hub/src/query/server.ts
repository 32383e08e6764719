import { FILE_DESCRIPTOR_SET_BASE64, QueryServiceService } from '@argus/query-api';
import { isLoopback, listenFailure } from '@argus/runtime';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { QueryArgumentError } from './errors.js';
import { type QueryServiceDeps, queryService } from './service.js';

export interface QueryServerOptions extends QueryServiceDeps {
  readonly listen: { readonly host: string; readonly port: number };
  /** Serve over TLS with this PEM certificate and key. */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
}

export interface QueryServer {
  /** The bound address (the port is the real one when 0 was asked). */
  readonly address: { readonly host: string; readonly port: number };
  close(): Promise<void>;
}

/**
 * Starts the gRPC query API with server reflection. Without tokens it refuses any address but
 * loopback, and says so, so an unauthenticated API is never reachable from the network.
 */
export const startQueryServer = async (options: QueryServerOptions): Promise<QueryServer> => {
  const logger = options.logger.child({ component: 'grpc' });
  // Admin tokens alone also make the API ask every caller for a token.
  if (options.tokens.empty && (options.adminTokens?.empty ?? true)) {
    if (!isLoopback(options.listen.host)) {
      throw new QueryArgumentError(
        `--grpc-listen ${options.listen.host} is not loopback and no API token is configured: set --api-tokens or --api-tokens-file, or listen on 127.0.0.1`,
      );
    }
    logger.warn(
      'no API tokens configured: the gRPC query API accepts every client, and listens on loopback only',
    );
  }
  const server = new Server({ 'grpc.max_receive_message_length': 1 << 20 });
  server.addService(QueryServiceService, queryService(options));
  const descriptors = loadFileDescriptorSetFromBuffer(Buffer.from(FILE_DESCRIPTOR_SET_BASE64, 'base64'));
  new ReflectionService(descriptors).addToServer(server);
  const host = options.listen.host.includes(':') ? `[${options.listen.host}]` : options.listen.host;
  const port = await new Promise<number>((resolve, reject) => {
    const credentials =
      options.tls === undefined
        ? ServerCredentials.createInsecure()
        : ServerCredentials.createSsl(null, [
            { cert_chain: Buffer.from(options.tls.cert), private_key: Buffer.from(options.tls.key) },
          ]);
    server.bindAsync(`${host}:${options.listen.port}`, credentials, (err, bound) =>
      err === null ? resolve(bound) : reject(listenFailure(options.listen, err)),
    );
  });
  logger.info(
    { address: `${options.listen.host}:${port}`, tls: options.tls !== undefined, reflection: true },
    'gRPC query API listening',
  );
  return {
    address: { host: options.listen.host, port },
    close: () =>
      new Promise<void>((resolve) => {
        // Let answers in flight finish, then cut streams (tails) that would never end.
        const timer = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
};
