import type { TailEventsResponse } from '@argus/query-api';
import { type ServiceError, status } from '@grpc/grpc-js';
import { clientCommand } from '../client/command.js';
import { CLIENT_OPTIONS } from '../client/connection.js';
import { FILTER_OPTIONS, toEventFilter } from '../client/filters.js';
import { EVENT_HEADER, eventJsonLine, eventRow, table } from '../client/render.js';
import { EXIT_OK } from '../command.js';

export const tailCommand = clientCommand({
  name: 'tail',
  summary: 'follow the unified stream live (Ctrl-C to stop), with the same filters as query',
  usage:
    'argus tail [--hub <host:port>] [--cluster <c>] [--type <t>] [--since 10m] [--count <n>] [--output json]',
  spec: {
    ...CLIENT_OPTIONS,
    ...FILTER_OPTIONS,
    count: {
      env: false,
      kind: 'integer',
      description: 'stop after this many events (default: follow until Ctrl-C)',
      min: 1,
    },
  },
  examples: ['argus tail --type incident', 'argus tail --cluster prod-eu --since 10m --output json'],
  run(options, connection, io) {
    const filter = toEventFilter(options);
    // No deadline: a tail lasts until stopped.
    const stream = connection.client.tailEvents({ filter }, connection.metadata);
    let received = 0;
    let header = options.output === 'table';
    return new Promise<number>((resolve, reject) => {
      const stop = () => stream.cancel();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const done = (result: () => void) => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        result();
      };
      stream.on('data', (response: TailEventsResponse) => {
        if (response.event === undefined) return;
        if (options.output === 'json') io.stdout(eventJsonLine(response.event));
        else {
          const text = table(EVENT_HEADER, [eventRow(response.event)]).split('\n');
          // Widths vary per line in a live view; the header is printed once, for orientation.
          if (header) io.stdout(`${text[0]}\n`);
          header = false;
          io.stdout(`${text[1]}\n`);
        }
        received += 1;
        if (options.count !== undefined && received >= options.count) stream.cancel();
      });
      stream.on('error', (error: ServiceError) =>
        done(() => (error.code === status.CANCELLED ? resolve(EXIT_OK) : reject(error))),
      );
      stream.on('end', () => done(() => resolve(EXIT_OK)));
    });
  },
});
