import type { GetStatsResponse, ListInstancesResponse } from '@argus/query-api';
import { clientCommand } from '../client/command.js';
import { CLIENT_OPTIONS, unary } from '../client/connection.js';
import { table, terminalSafeJson } from '../client/render.js';
import { EXIT_OK } from '../command.js';

const ago = (date: Date | undefined, now: number): string => {
  if (date === undefined) return '-';
  const s = Math.max(0, Math.round((now - date.getTime()) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
};

/** Four missed beats of an agent's default 15 s heartbeat: its agent is down or cut off. */
const DEFAULT_STALE_AFTER_MS = 60_000;

/** `live`, `stale` (no heartbeat within staleAfterMs), or `-` for a producer without heartbeats. */
export const heartbeatState = (lastHeartbeat: Date | undefined, staleAfterMs: number, now: number): string =>
  lastHeartbeat === undefined ? '-' : now - lastHeartbeat.getTime() > staleAfterMs ? 'stale' : 'live';

export const instancesCommand = clientCommand({
  name: 'instances',
  summary: 'the Argo CD instances that report: agents, architecture, clusters, last heartbeat, events',
  usage: 'argus instances [--hub <host:port>] [--stale-after 1m] [--output json]',
  spec: {
    ...CLIENT_OPTIONS,
    staleAfter: {
      env: false,
      kind: 'duration',
      description: 'an agent whose last heartbeat is older is marked stale',
      default: DEFAULT_STALE_AFTER_MS,
      min: 1000,
    },
  },
  examples: ['argus instances', 'argus instances --stale-after 2m --output json'],
  async run(options, connection, io) {
    const { instances } = await unary<object, ListInstancesResponse>(
      connection,
      connection.client.listInstances,
      {},
    );
    const now = Date.now();
    const state = (i: (typeof instances)[number]) => heartbeatState(i.lastHeartbeat, options.staleAfter, now);
    if (options.output === 'json') {
      for (const i of instances) io.stdout(`${terminalSafeJson({ ...i, state: state(i) })}\n`);
      return EXIT_OK;
    }
    io.stdout(
      table(
        ['INSTANCE', 'STATE', 'ARCHITECTURE', 'SOURCE', 'CLUSTERS', 'HEARTBEAT', 'EVENTS 1H', 'EVENTS'],
        instances.map((i) => [
          i.instance,
          state(i),
          i.architecture || '-',
          i.source || '-',
          i.clusters.join(',') || '-',
          ago(i.lastHeartbeat, now),
          String(i.eventsLastHour),
          String(i.eventsTotal),
        ]),
      ),
    );
    return EXIT_OK;
  },
});

export const statsCommand = clientCommand({
  name: 'stats',
  summary: 'ingest counters of the hub, consumer lag, stored events and dead letters',
  usage: 'argus stats [--hub <host:port>] [--output json]',
  spec: CLIENT_OPTIONS,
  examples: ['argus stats'],
  async run(options, connection, io) {
    const stats = await unary<object, GetStatsResponse>(connection, connection.client.getStats, {});
    if (options.output === 'json') {
      io.stdout(`${terminalSafeJson(stats)}\n`);
      return EXIT_OK;
    }
    const rows: [string, number][] = [
      ['consumed (this hub)', stats.consumed],
      ['stored (this hub)', stats.stored],
      ['duplicates dropped (this hub)', stats.duplicates],
      ['dead letters (this hub)', stats.deadLetters],
      ['raw stream pending', stats.consumerPending],
      ['delivered, not yet acked', stats.consumerAckPending],
      ['events stored', stats.storedEvents],
      ['rows stored (before merges)', stats.storedRows],
      ['messages in CDEVENTS_DLQ', stats.deadLetterMessages],
    ];
    io.stdout(
      table(
        ['WHAT', 'COUNT'],
        rows.map(([what, n]) => [what, String(n)]),
      ),
    );
    return EXIT_OK;
  },
});
