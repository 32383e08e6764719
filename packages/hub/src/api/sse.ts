import type { ServerResponse } from 'node:http';
import { Event, type TailEventsResponse } from '@argus/query-api';
import type { ServerErrorResponse } from '@grpc/grpc-js';
import type { StreamSink } from './grpc-bridge.js';
import { httpError } from './status.js';

/** A comment line this often keeps proxies and browsers from closing an idle stream. */
export const SSE_KEEPALIVE_MS = 15_000;

/**
 * Server-Sent Events of a tail: `event: event` with the proto JSON of each event and its stream
 * sequence as the id; `event: error` with `{error, code}` when the tail fails after it started.
 */
export const sseSink = (res: ServerResponse): StreamSink<TailEventsResponse> & { open(): void } => {
  let keepalive: NodeJS.Timeout | undefined;
  const stop = () => clearInterval(keepalive);
  res.once('close', stop);
  return {
    open: () => {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      });
      res.write(': tail started\n\n');
      keepalive = setInterval(() => res.write(': keepalive\n\n'), SSE_KEEPALIVE_MS);
    },
    write: ({ event, streamSequence }) =>
      res.write(
        `id: ${streamSequence}\nevent: event\ndata: ${JSON.stringify(event === undefined ? {} : Event.toJSON(event))}\n\n`,
      ),
    end: () => {
      stop();
      res.end();
    },
    fail: (error: ServerErrorResponse) => {
      stop();
      res.end(`event: error\ndata: ${JSON.stringify(httpError(error).body)}\n\n`);
    },
  };
};
