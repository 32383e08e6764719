import { NO_CLUSTER_TOKEN } from '@argus/bus';
import type { GetServiceTimelineRequest, GetServiceTimelineResponse } from '@argus/query-api';
import { clientCommand } from '../client/command.js';
import { CLIENT_OPTIONS, unary } from '../client/connection.js';
import { eventJsonLine, table, terminalSafe } from '../client/render.js';
import { parseTime } from '../client/time.js';
import { EXIT_OK, UsageError } from '../command.js';

export const timelineCommand = clientCommand({
  name: 'timeline',
  summary: "one service's deployments, upgrades, rollbacks and incidents across every cluster",
  usage:
    'argus timeline <service> [--hub <host:port>] [--since 7d] [--until <when>] [--limit <n>] [--upstream] [--output json]',
  spec: {
    ...CLIENT_OPTIONS,
    since: {
      env: false,
      kind: 'string',
      description: 'from this time: 7d back, or RFC 3339',
      placeholder: '<when>',
    },
    until: {
      env: false,
      kind: 'string',
      description: 'before this time',
      placeholder: '<when>',
    },
    limit: {
      env: false,
      kind: 'integer',
      description: 'most entries (the newest kept)',
      default: 200,
      min: 1,
    },
    upstream: {
      env: false,
      kind: 'boolean',
      description: 'also the builds and changes the deployed artifacts came from, in time order',
    },
  },
  takesArguments: true,
  examples: [
    'argus timeline podinfo',
    'argus timeline podinfo --upstream',
    'argus timeline guestbook --since 7d --output json',
  ],
  async run(options, connection, io, positionals) {
    const [service, ...extra] = positionals;
    if (service === undefined || extra.length > 0) throw new UsageError('give exactly one service name');
    const response = await unary<GetServiceTimelineRequest, GetServiceTimelineResponse>(
      connection,
      connection.client.getServiceTimeline,
      {
        service,
        limit: options.limit,
        upstream: options.upstream === true,
        ...(options.since === undefined ? {} : { since: parseTime(options.since, '--since') }),
        ...(options.until === undefined ? {} : { until: parseTime(options.until, '--until') }),
      },
    );
    // Oldest first, the builds and changes in place among the deployments.
    const entries = [...response.upstream, ...response.entries].sort(
      (a, b) => (a.event?.timestamp?.getTime() ?? 0) - (b.event?.timestamp?.getTime() ?? 0),
    );
    if (options.output === 'json') {
      for (const entry of entries) if (entry.event !== undefined) io.stdout(eventJsonLine(entry.event));
      return EXIT_OK;
    }
    if (response.entries.length === 0) {
      io.stderr(`no deployments or incidents of ${JSON.stringify(service)}\n`);
      return EXIT_OK;
    }
    io.stdout(`${terminalSafe(`${service} across ${response.clusters.join(', ')}`)}\n`);
    io.stdout(
      table(
        ['TIME', 'CLUSTER', 'INSTANCE', 'WHAT', 'DETAIL'],
        entries.map((entry) => [
          entry.event?.timestamp?.toISOString() ?? '',
          entry.event?.cluster || NO_CLUSTER_TOKEN,
          entry.event?.instance ?? '',
          entry.kind,
          entry.detail,
        ]),
      ),
    );
    return EXIT_OK;
  },
});
