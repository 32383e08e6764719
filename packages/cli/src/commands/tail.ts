import type { EventFilter, TailEventsResponse } from '@argus/query-api';
import { type ServiceError, status } from '@grpc/grpc-js';
import { clientCommand } from '../client/command.js';
import { CLIENT_OPTIONS, type Connection, describeServiceError } from '../client/connection.js';
import { FILTER_OPTIONS, toEventFilter } from '../client/filters.js';
import { EVENT_HEADER, eventJsonLine, eventRow, table } from '../client/render.js';
import { parseTime } from '../client/time.js';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../command.js';

/** Waits between reconnection attempts: short first, for a hub that restarts. */
const RECONNECT_DELAYS_MS = [500, 1000, 2000, 5000];

const { since: _since, until: _until, ...LIVE_FILTERS } = FILTER_OPTIONS;

/** How one stream ended: stopped by us (Ctrl-C, --count) or cut by the hub or the network. */
type StreamEnd = { readonly stopped: true } | { readonly stopped: false; readonly why: string };

export const tailCommand = clientCommand({
  name: 'tail',
  summary: 'follow the unified stream live (Ctrl-C to stop), with the same filters as query',
  usage:
    'argus tail [--hub <host:port>] [--cluster <c>] [--type <t>] [--replay-from 10m] [--count <n>] [--output json]',
  spec: {
    ...CLIENT_OPTIONS,
    ...LIVE_FILTERS,
    replayFrom: {
      env: false,
      kind: 'string',
      description:
        'first replay what the hub stored since this time (30m, 1h, or RFC 3339; storage time, not the event time query --since filters on)',
      placeholder: '<when>',
    },
    since: {
      env: false,
      kind: 'string',
      description: 'refused: tail replays by storage time, see --replay-from',
      placeholder: '<when>',
    },
    count: {
      env: false,
      kind: 'integer',
      description: 'stop after this many events (default: follow until Ctrl-C)',
      min: 1,
    },
    reconnectFor: {
      env: false,
      kind: 'duration',
      description: 'when the hub goes away, try again this long (saying so on stderr), then exit 1',
      default: 120_000,
      min: 0,
    },
  },
  examples: ['argus tail --type incident', 'argus tail --cluster prod-eu --replay-from 10m --output json'],
  async run(options, connection, io) {
    if (options.since !== undefined)
      throw new UsageError(
        'tail has no --since: query --since filters on the event time; tail --replay-from replays what the hub stored since then',
      );
    let filter = toEventFilter({
      ...options,
      since: undefined,
      until: undefined,
    });
    if (options.replayFrom !== undefined)
      filter = { ...filter, since: parseTime(options.replayFrom, '--replay-from') };
    let received = 0;
    let header = options.output === 'table';
    const print = (response: TailEventsResponse): boolean => {
      if (response.event === undefined) return false;
      if (options.output === 'json') io.stdout(eventJsonLine(response.event));
      else {
        const text = table(EVENT_HEADER, [eventRow(response.event)]).split('\n');
        // Widths vary per line in a live view; the header is printed once, for orientation.
        if (header) io.stdout(`${text[0]}\n`);
        header = false;
        io.stdout(`${text[1]}\n`);
      }
      received += 1;
      return options.count !== undefined && received >= options.count;
    };
    let outageSince: number | undefined;
    let attempt = 0;
    for (;;) {
      const before = received;
      const end = await follow(connection, options.hub, filter, print);
      if (end.stopped) return EXIT_OK;
      if (received > before) {
        // It had followed: a new outage, counted from now.
        outageSince = undefined;
        attempt = 0;
      }
      outageSince ??= Date.now();
      const waited = Date.now() - outageSince;
      if (waited >= options.reconnectFor) {
        io.stderr(`argus tail: gave up after ${Math.round(waited / 1000)} s: ${end.why}\n`);
        return EXIT_FAILURE;
      }
      const delay = RECONNECT_DELAYS_MS[Math.min(attempt, RECONNECT_DELAYS_MS.length - 1)] ?? 5000;
      io.stderr(`argus tail: ${end.why}; reconnecting in ${delay} ms\n`);
      attempt += 1;
      await new Promise((resolve) => setTimeout(resolve, delay));
      // Resume at the cut: what the hub stored from then on is replayed.
      if (filter.since === undefined || filter.since.getTime() < outageSince)
        filter = { ...filter, since: new Date(outageSince) };
    }
  },
});

/**
 * One TailEvents stream until it ends. Refusals a retry cannot fix (a token, a filter) reject;
 * a hub that ends the stream or cannot be reached resolves with why, for the caller to retry.
 */
const follow = (
  connection: Connection,
  hub: string,
  filter: EventFilter,
  print: (response: TailEventsResponse) => boolean,
): Promise<StreamEnd> => {
  // No deadline: a tail lasts until stopped.
  const stream = connection.client.tailEvents({ filter }, connection.metadata);
  return new Promise<StreamEnd>((resolve, reject) => {
    let stopped = false;
    const stop = () => {
      stopped = true;
      stream.cancel();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const done = (result: () => void) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      result();
    };
    stream.on('data', (response: TailEventsResponse) => {
      if (print(response)) stop();
    });
    stream.on('error', (error: ServiceError) =>
      done(() => {
        // CANCELLED that we did not ask for is the hub going away (its forced shutdown cuts streams).
        if (stopped) resolve({ stopped: true });
        else if (
          error.code === status.UNAVAILABLE ||
          error.code === status.INTERNAL ||
          error.code === status.CANCELLED
        )
          resolve({ stopped: false, why: describeServiceError(error, hub) });
        else reject(error);
      }),
    );
    stream.on('end', () =>
      done(() =>
        resolve(
          stopped ? { stopped: true } : { stopped: false, why: 'the hub ended the stream (restarting?)' },
        ),
      ),
    );
  });
};
