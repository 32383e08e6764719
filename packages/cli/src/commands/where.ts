import type { GetDeploymentsRequest, GetDeploymentsResponse } from '@argus/query-api';
import { clientCommand } from '../client/command.js';
import { CLIENT_OPTIONS, unary } from '../client/connection.js';
import { table, terminalSafeJson } from '../client/render.js';
import { EXIT_OK } from '../command.js';

export const whereCommand = clientCommand({
  name: 'where',
  summary: 'what runs where: the last deployment of every service in every cluster, with open incidents',
  usage:
    'argus where [--hub <host:port>] [--service <text>] [--cluster <c>] [--environment <e>] [--instance <i>] [--output json]',
  spec: {
    ...CLIENT_OPTIONS,
    service: {
      env: false,
      kind: 'string',
      description: 'only services whose name contains this (case-insensitive)',
      placeholder: '<text>',
    },
    cluster: { env: false, kind: 'string', description: 'only this cluster', placeholder: '<name>' },
    environment: { env: false, kind: 'string', description: 'only this environment', placeholder: '<name>' },
    instance: {
      env: false,
      kind: 'string',
      description: 'only what this instance reported',
      placeholder: '<name>',
    },
  },
  examples: ['argus where', 'argus where --service checkout', 'argus where --cluster prod-eu --output json'],
  async run(options, connection, io) {
    const response = await unary<GetDeploymentsRequest, GetDeploymentsResponse>(
      connection,
      connection.client.getDeployments,
      {
        cluster: options.cluster ?? '',
        environment: options.environment ?? '',
        instance: options.instance ?? '',
        serviceContains: options.service ?? '',
        pageSize: 0,
        page: 0,
      },
    );
    if (options.output === 'json') {
      for (const d of response.deployments) io.stdout(`${terminalSafeJson(d)}\n`);
    } else {
      io.stdout(
        table(
          ['SERVICE', 'CLUSTER', 'VERSION', 'WHAT', 'WHEN', 'INSTANCE', 'OPEN INCIDENTS'],
          response.deployments.map((d) => [
            d.service,
            d.cluster || '-',
            d.kind === 'service.removed' ? '(removed)' : d.artifactId || '-',
            d.kind.replace('service.', ''),
            d.time?.toISOString() ?? '-',
            d.instance,
            String(d.openIncidents),
          ]),
        ),
      );
    }
    if (response.truncated)
      io.stderr(
        'only the first service and cluster pairs are listed: filter by service, cluster, environment or instance\n',
      );
    return EXIT_OK;
  },
});
