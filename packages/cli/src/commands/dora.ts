import {
  DoraBucket,
  DoraGroupBy,
  type GetDoraMetricsRequest,
  type GetDoraMetricsResponse,
} from '@argus/query-api';
import { clientCommand } from '../client/command.js';
import { CLIENT_OPTIONS, unary } from '../client/connection.js';
import { seconds, table, terminalSafeJson } from '../client/render.js';
import { parseTime } from '../client/time.js';
import { EXIT_OK } from '../command.js';

const GROUPS: Record<string, DoraGroupBy> = {
  none: DoraGroupBy.DORA_GROUP_BY_UNSPECIFIED,
  service: DoraGroupBy.DORA_GROUP_BY_SERVICE,
  cluster: DoraGroupBy.DORA_GROUP_BY_CLUSTER,
  environment: DoraGroupBy.DORA_GROUP_BY_ENVIRONMENT,
};

export const doraCommand = clientCommand({
  name: 'dora',
  summary: 'DORA metrics: deployment frequency, lead time, change failure rate, time to restore',
  usage:
    'argus dora [--hub <host:port>] [--service <s>] [--cluster <c>] [--environment <e>] [--since 30d] [--group-by cluster]',
  spec: {
    ...CLIENT_OPTIONS,
    service: {
      env: false,
      kind: 'string',
      description: 'only this service',
      placeholder: '<name>',
    },
    cluster: {
      env: false,
      kind: 'string',
      description: 'only this cluster',
      placeholder: '<name>',
    },
    environment: {
      env: false,
      kind: 'string',
      description: 'only this environment',
      placeholder: '<name>',
    },
    since: {
      kind: 'string',
      description: 'window start: 30d back (default) or RFC 3339',
      default: '30d',
      placeholder: '<when>',
    },
    until: {
      env: false,
      kind: 'string',
      description: 'window end (default: now)',
      placeholder: '<when>',
    },
    groupBy: {
      kind: 'string',
      description: 'one row per service, cluster or environment',
      default: 'none',
      choices: Object.keys(GROUPS),
      placeholder: '<none|service|cluster|environment>',
    },
  },
  examples: ['argus dora --since 7d', 'argus dora --group-by cluster --service podinfo'],
  async run(options, connection, io) {
    const now = Date.now();
    const response = await unary<GetDoraMetricsRequest, GetDoraMetricsResponse>(
      connection,
      connection.client.getDoraMetrics,
      {
        service: options.service ?? '',
        cluster: options.cluster ?? '',
        environment: options.environment ?? '',
        since: parseTime(options.since, '--since', now),
        ...(options.until === undefined ? {} : { until: parseTime(options.until, '--until', now) }),
        groupBy: GROUPS[options.groupBy] ?? DoraGroupBy.DORA_GROUP_BY_UNSPECIFIED,
        bucket: DoraBucket.DORA_BUCKET_UNSPECIFIED,
      },
    );
    if (options.output === 'json') {
      for (const m of response.metrics) io.stdout(`${terminalSafeJson(m)}\n`);
      return EXIT_OK;
    }
    io.stdout(`DORA metrics ${response.since?.toISOString()} .. ${response.until?.toISOString()}\n`);
    io.stdout(
      table(
        [
          options.groupBy === 'none' ? 'SCOPE' : options.groupBy.toUpperCase(),
          'DEPLOYS',
          'PER DAY',
          'LEAD TIME (median)',
          'CHANGE FAILURE',
          'INCIDENTS',
          'TIME TO RESTORE (median)',
        ],
        response.metrics.map((m) => [
          m.key || 'all',
          String(m.deployments),
          m.deploymentsPerDay.toFixed(2),
          m.leadTimeSamples === 0 ? '-' : `${seconds(m.leadTimeMedianSeconds)} (${m.leadTimeSamples} traced)`,
          m.deployments === 0
            ? '-'
            : `${(m.changeFailureRate * 100).toFixed(0)}% (${m.failedDeployments}/${m.deployments})`,
          String(m.incidents),
          m.restoredIncidents === 0
            ? '-'
            : `${seconds(m.timeToRestoreMedianSeconds)} (${m.restoredIncidents} restored)`,
        ]),
      ),
    );
    return EXIT_OK;
  },
});
