import type { SearchEventsRequest, SearchEventsResponse } from '@argus/query-api';
import { clientCommand } from '../client/command.js';
import { CLIENT_OPTIONS, unary } from '../client/connection.js';
import { FILTER_OPTIONS, toEventFilter } from '../client/filters.js';
import { EVENT_HEADER, eventJsonLine, eventRow, table } from '../client/render.js';
import { EXIT_OK } from '../command.js';

const PAGE = 500;

export const queryCommand = clientCommand({
  name: 'query',
  summary: 'search the unified stream: newest first, filtered by cluster, instance, type, subject, time',
  usage:
    'argus query [--hub <host:port>] [--cluster <c>] [--type <t>] [--since 1h] [--limit <n>] [--output json]',
  spec: {
    ...CLIENT_OPTIONS,
    ...FILTER_OPTIONS,
    limit: {
      env: false,
      kind: 'integer',
      description: 'most events to print',
      default: 50,
      min: 1,
    },
  },
  examples: [
    'argus query --cluster prod-eu --type service.deployed --since 24h',
    'argus query --subject-id podinfo --output json | jq .event.context.id',
  ],
  async run(options, connection, io) {
    const filter = toEventFilter(options);
    const events: SearchEventsResponse['events'] = [];
    let pageToken = '';
    do {
      const page = await unary<SearchEventsRequest, SearchEventsResponse>(
        connection,
        connection.client.searchEvents,
        {
          filter,
          pageSize: Math.min(PAGE, options.limit - events.length),
          pageToken,
        },
      );
      events.push(...page.events);
      pageToken = page.nextPageToken;
    } while (pageToken !== '' && events.length < options.limit);
    if (options.output === 'json') for (const e of events) io.stdout(eventJsonLine(e));
    else if (events.length === 0) io.stderr('no events match\n');
    else io.stdout(table(EVENT_HEADER, events.map(eventRow)));
    return EXIT_OK;
  },
});
