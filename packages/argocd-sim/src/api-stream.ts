/**
 * The wire format of Argo CD's application stream: grpc-gateway v1.16.0 `runtime.ForwardResponseStream`
 * (every release 2.4-3.x, go.mod) with argoproj/pkg v0.13 `grpc/http/forwarders.go` `NewStreamForwarder`.
 */
import { type ServerResponse, STATUS_CODES } from 'node:http';

/** argoproj/pkg `keepalive`: `:\n` every 15 s on `Accept: text/event-stream` streams. */
export const KEEPALIVE_INTERVAL_MS = 15_000;

/** An error that ends a stream after its 200 (e.g. 14 Unavailable while the server shuts down). */
export interface StreamError {
  readonly grpcCode: number;
  readonly message: string;
}

// grpc-gateway v1.16.0 runtime/errors.go `HTTPStatusFromCode`.
const HTTP_OF_GRPC: Readonly<Record<number, number>> = {
  0: 200,
  1: 408,
  2: 500,
  3: 400,
  4: 504,
  5: 404,
  6: 409,
  7: 403,
  8: 429,
  9: 400,
  10: 409,
  11: 400,
  12: 501,
  13: 500,
  14: 503,
  15: 500,
  16: 401,
};

export interface StreamWireOptions {
  /** `Accept: text/event-stream`: `data: <json> \n\n` frames and keepalives. */
  readonly sse: boolean;
  /** @default KEEPALIVE_INTERVAL_MS */
  readonly keepaliveMs?: number;
}

/**
 * One stream response. Headers leave with the first message (the gateway waits for gRPC's headers, sent
 * with the first message), and so do keepalives, whose loop starts only once the forwarder runs. A
 * message identical to the last one sent for the same application **name** is suppressed.
 */
export class StreamWire {
  readonly #res: ServerResponse;
  readonly #sse: boolean;
  readonly #keepaliveMs: number;
  readonly #lastByName = new Map<string, string>();
  #keepalive: NodeJS.Timeout | undefined;
  #ended = false;

  constructor(res: ServerResponse, options: StreamWireOptions) {
    this.#res = res;
    this.#sse = options.sse;
    this.#keepaliveMs = options.keepaliveMs ?? KEEPALIVE_INTERVAL_MS;
    res.statusCode = 200;
    res.setHeader('content-type', this.#sse ? 'text/event-stream' : 'application/json');
    if (this.#sse) res.setHeader('x-content-type-options', 'nosniff');
  }

  #frame(body: unknown): string {
    const data = JSON.stringify(body);
    return this.#sse ? `data: ${data} \n\n` : data;
  }

  /** Writes `{"result": …}` and the "\n" delimiter; false when suppressed or ended. */
  result(name: string, result: unknown): boolean {
    if (this.#ended) return false;
    const frame = this.#frame({ result });
    if (this.#lastByName.get(name) === frame) return false;
    this.#lastByName.set(name, frame);
    this.#res.write(`${frame}\n`);
    if (this.#sse && this.#keepalive === undefined) {
      this.#keepalive = setInterval(() => this.#res.write(':\n'), this.#keepaliveMs);
    }
    return true;
  }

  /** `handleForwardResponseStreamError`: `{"error":{grpc_code,http_code,message,http_status}}`, no delimiter, end. */
  fail(error: StreamError): void {
    if (this.#ended) return;
    const httpCode = HTTP_OF_GRPC[error.grpcCode] ?? 500;
    if (!this.#res.headersSent) this.#res.statusCode = httpCode;
    this.#res.end(
      this.#frame({
        error: {
          grpc_code: error.grpcCode,
          http_code: httpCode,
          message: error.message,
          http_status: STATUS_CODES[httpCode] ?? '',
        },
      }),
    );
    this.close();
  }

  close(): void {
    this.#ended = true;
    clearInterval(this.#keepalive);
  }
}
