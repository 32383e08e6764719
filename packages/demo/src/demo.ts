import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  applyStep,
  loadNotificationsConfigMap,
  NotificationsController,
  postNotification,
  type RunningServer,
  type SimulatedArgoCD,
  simulatorFor,
  startArgoCdApi,
  startKubeApi,
  subscribeEveryApp,
} from '@argus/argocd-sim';
import { type GetStatsResponse, QueryServiceClient, type SearchEventsResponse } from '@argus/query-api';
import { freePort } from '@argus/testkit/ports';
import { credentials, Metadata } from '@grpc/grpc-js';
import { metric, runCommand, Supervised, sleep, waitPort, waitReady } from './processes.js';
import { type DemoInstance, INSTANCES, registryYaml, SCENARIO, SCENARIO_SPAN_MS } from './world.js';

export interface DemoOptions {
  /** An existing NATS server; otherwise the demo starts its own. */
  readonly nats?: string;
  /** How long the scenario plays in real time. */
  readonly playMs: number;
  /** How long to stay up after the report; undefined: until Ctrl-C. */
  readonly durationMs?: number;
  /** Keep the work directory (logs, data) after the end. */
  readonly keep: boolean;
  readonly out: (text: string) => void;
  readonly signal: AbortSignal;
}

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'packages/cli/bundle/argus.js');
const SIM_TOKEN = 'demo-argocd-token';
const CI_TOKEN = 'demo-ci-token';

const bold = (text: string) => (process.stdout.isTTY ? `\u001b[1m${text}\u001b[0m` : text);
const clock = (ms: number): string => {
  const minutes = Math.round(ms / 60_000);
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
};

/** What every run must show; a difference makes the demo fail (exit code 1). */
export const EXPECTED_TYPES: Readonly<Record<string, number>> = {
  'service.deployed': 8,
  'service.upgraded': 12,
  'service.rolledback': 1,
  'incident.detected': 2,
  'incident.resolved': 2,
  'change.merged': 3,
  'build.finished': 3,
  'artifact.published': 3,
};
export const EXPECTED_CLUSTERS = ['dev', 'edge-1', 'prod-ap', 'prod-eu', 'prod-us', 'sandbox', 'staging'];

interface Argo {
  readonly instance: DemoInstance;
  readonly sim: SimulatedArgoCD;
  readonly setTime: (ms: number) => void;
  /** The API or Kubernetes server agents watch; none for a Notifications (webhook) instance. */
  readonly server?: RunningServer;
}

/**
 * Runs the whole demo: processes, simulators, scenario, checks and report. Returns the problems
 * found (empty when everything worked).
 */
export const runDemo = async (options: DemoOptions): Promise<string[]> => {
  const { out } = options;
  const work = mkdtempSync(join(tmpdir(), 'argus-demo-'));
  const logs = join(work, 'logs');
  mkdirSync(logs);
  const processes: Supervised[] = [];
  const servers: RunningServer[] = [];
  const problems: string[] = [];
  const step = (title: string) => out(`\n${bold(`==> ${title}`)}\n`);
  const argus = (args: string[]) => runCommand(process.execPath, [cli, ...args]);

  try {
    // 1. NATS
    let natsUrl = options.nats;
    if (natsUrl === undefined) {
      const port = await freePort();
      natsUrl = `nats://127.0.0.1:${port}`;
      step(`nats-server with JetStream on ${natsUrl}`);
      const nats = new Supervised(
        'nats-server',
        'nats-server',
        ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', join(work, 'nats')],
        logs,
      );
      processes.push(nats);
      await waitPort(port, nats);
    } else step(`using NATS at ${natsUrl}`);

    // 2. The hub
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const hubAddress = `127.0.0.1:${grpcPort}`;
    const ingest = `http://127.0.0.1:${httpPort}`;
    const registry = join(work, 'registry.yaml');
    writeFileSync(registry, registryYaml());
    step(`hub: embedded ClickHouse in ${join(work, 'hub')}, HTTP ${ingest}, gRPC ${hubAddress}`);
    const hub = new Supervised(
      'hub',
      process.execPath,
      [
        cli,
        'hub',
        '--nats',
        natsUrl,
        '--data-dir',
        join(work, 'hub'),
        '--http-listen',
        `127.0.0.1:${httpPort}`,
        '--grpc-listen',
        hubAddress,
        '--registry',
        registry,
        '--ingest-tokens',
        `ci=${CI_TOKEN}`,
        '--batch-max-wait',
        '50ms',
        '--log-level',
        'warn',
      ],
      logs,
    );
    processes.push(hub);
    await waitReady(`${ingest}/readyz`, hub);

    // 3. Simulated Argo CDs and their agents
    step('simulated Argo CD instances and their agents');
    // Scenario time ends just before now: every Argo CD timestamp is a real, recent past.
    const start = new Date(Date.now() - SCENARIO_SPAN_MS - 5 * 60_000);
    const argos = new Map<string, Argo>();
    let notifications = Promise.resolve();
    const agentPorts = new Map<string, number>();
    for (const instance of INSTANCES) {
      const target = simulatorFor(
        { instance: { name: instance.name, clusters: instance.clusters }, apps: instance.apps, steps: [] },
        start,
      );
      for (const app of instance.apps) target.sim.createApp(app);
      const server =
        instance.source === 'api'
          ? await startArgoCdApi(target.sim, { token: SIM_TOKEN, host: '127.0.0.1', port: 0 })
          : instance.source === 'kubernetes'
            ? await startKubeApi(target.sim, { token: SIM_TOKEN, host: '127.0.0.1', port: 0 })
            : undefined;
      if (server !== undefined) servers.push(server);
      argos.set(instance.name, {
        instance,
        sim: target.sim,
        setTime: target.setTime,
        ...(server === undefined ? {} : { server }),
      });
      const port = await freePort();
      agentPorts.set(instance.name, port);
      const sourceArgs =
        server === undefined
          ? []
          : instance.source === 'api'
            ? ['--argocd-url', server.url, '--argocd-token', SIM_TOKEN]
            : [
                '--kube-server',
                server.url,
                '--kube-token',
                SIM_TOKEN,
                ...(instance.clusters.length === 0
                  ? []
                  : ['--cluster-names', instance.clusters.map((c) => `${c.server}=${c.name}`).join(',')]),
              ];
      if (instance.source === 'webhook') {
        // Argo CD Notifications with the shipped Application trigger and template, posting to the agent in order.
        // subscribed as deploy/argocd-notifications/subscribe.sh does
        const cm = subscribeEveryApp(
          await loadNotificationsConfigMap(
            join(root, 'deploy/argocd-notifications/argocd-notifications-applications-cm.yaml'),
          ),
        );
        const controller = new NotificationsController({
          ...cm,
          context: { ...cm.context, argusInClusterName: instance.inCluster },
        });
        const url = `http://127.0.0.1:${port}/api/v1/notifications`;
        target.sim.subscribe((event) => {
          if (event.type === 'DELETED') return;
          for (const n of controller.observe(event.app)) {
            notifications = notifications.then(async () => {
              const posted = await postNotification(url, n.body, { path: n.path, method: n.method }).catch(
                (error: unknown) => ({
                  status: 0,
                  body: String(error),
                }),
              );
              if (posted.status !== 202)
                problems.push(
                  `notification ${n.trigger ?? n.template} refused (${posted.status}): ${posted.body}`,
                );
            });
          }
        });
      }
      const agent = new Supervised(
        `agent-${instance.name}`,
        process.execPath,
        [
          cli,
          'agent',
          '--instance',
          instance.name,
          '--source',
          instance.source,
          '--architecture',
          instance.architecture,
          '--cluster',
          instance.inCluster,
          '--nats',
          natsUrl,
          '--listen',
          `127.0.0.1:${port}`,
          '--spool-dir',
          join(work, 'spool', instance.name),
          '--health-debounce',
          '1s',
          '--heartbeat',
          '2s',
          '--log-level',
          'warn',
          ...sourceArgs,
        ],
        logs,
      );
      processes.push(agent);
      out(
        `  ${instance.name.padEnd(15)} ${instance.architecture.padEnd(14)} ${`${instance.source} source`.padEnd(18)} ${instance.role}\n`,
      );
    }
    for (const p of processes.filter((p) => p.name.startsWith('agent-'))) {
      await waitReady(`http://127.0.0.1:${agentPorts.get(p.name.slice('agent-'.length))}/readyz`, p);
    }

    // 4. The scenario
    const speed = SCENARIO_SPAN_MS / options.playMs;
    step(
      `the scenario: ${clock(SCENARIO_SPAN_MS)} h of deployments played in ${Math.round(options.playMs / 1000)} s`,
    );
    let stored = 0;
    const poll = setInterval(() => {
      void fetch(`${ingest}/metrics`)
        .then(async (r) => {
          stored = metric(await r.text(), 'argus_hub_stored_total');
        })
        .catch(() => undefined);
    }, 250);
    let ciDuplicates = 0;
    const realStart = Date.now();
    for (const s of SCENARIO) {
      if (options.signal.aborted) break;
      const wait = realStart + s.at / speed - Date.now();
      if (wait > 0) await sleep(wait);
      if ('ci' in s) {
        const sent = await argus([
          'send',
          '--ingest',
          ingest,
          '--token',
          CI_TOKEN,
          '--type',
          s.ci.type,
          '--id',
          s.ci.id,
          '--source',
          s.ci.source,
          '--subject-id',
          s.ci.subjectId,
          '--chain-id',
          s.ci.chainId,
          '--timestamp',
          new Date(start.getTime() + s.at).toISOString(),
        ]);
        if (sent.code !== 0) problems.push(`argus send ${s.ci.type} failed: ${sent.stderr.trim()}`);
        else
          ciDuplicates +=
            (JSON.parse(sent.stdout) as { response?: { duplicates?: number } }).response?.duplicates ?? 0;
      } else {
        const argo = argos.get(s.instance)!;
        argo.setTime(start.getTime() + s.at);
        applyStep(argo.sim, s.step);
      }
      out(`  [${clock(s.at)}] ${s.say.padEnd(78)} stored ${stored}\n`);
      const dead = processes.map((p) => p.failure).filter((f) => f !== undefined);
      if (dead.length > 0) throw new Error(dead.join('; '));
    }
    clearInterval(poll);
    await notifications;

    // 5. Settle: agents' spools empty, hub consumer drained, nothing new for a second.
    step('waiting for every event to be stored');
    const client = new QueryServiceClient(hubAddress, credentials.createInsecure());
    const stats = () =>
      new Promise<GetStatsResponse>((resolve, reject) =>
        client.getStats({}, new Metadata(), { deadline: Date.now() + 5000 }, (e, r) =>
          e === null ? resolve(r) : reject(e),
        ),
      );
    let last = -1;
    let settled: GetStatsResponse | undefined;
    const settleDeadline = Date.now() + 60_000;
    while (Date.now() < settleDeadline) {
      await sleep(1000);
      let spooled = 0;
      for (const port of agentPorts.values())
        spooled += metric(
          await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
          'argus_agent_spool_depth',
        );
      const s = await stats();
      if (spooled === 0 && s.consumerPending === 0 && s.consumerAckPending === 0 && s.storedEvents === last) {
        settled = s;
        break;
      }
      last = s.storedEvents;
    }
    if (settled === undefined) problems.push('events were still arriving after 60 s');

    // 6. Checks: what must be true of the unified stream.
    const all = await new Promise<SearchEventsResponse>((resolve, reject) =>
      client.searchEvents(
        { pageSize: 1000, pageToken: '' },
        new Metadata(),
        { deadline: Date.now() + 10_000 },
        (e, r) => (e === null ? resolve(r) : reject(e)),
      ),
    );
    const counts: Record<string, number> = {};
    for (const e of all.events)
      counts[`${e.subjectType}.${e.predicate}`] = (counts[`${e.subjectType}.${e.predicate}`] ?? 0) + 1;
    for (const [type, expected] of Object.entries(EXPECTED_TYPES)) {
      if ((counts[type] ?? 0) !== expected)
        problems.push(`expected ${expected} ${type} events, the hub has ${counts[type] ?? 0}`);
    }
    const clusters = [
      ...new Set(all.events.filter((e) => e.subjectId === 'podinfo').map((e) => e.cluster)),
    ].sort();
    if (clusters.join() !== EXPECTED_CLUSTERS.join())
      problems.push(
        `podinfo should be in ${EXPECTED_CLUSTERS.join(', ')}; the stream has ${clusters.join(', ')}`,
      );
    if (settled !== undefined) {
      if (settled.deadLetterMessages !== 0)
        problems.push(`${settled.deadLetterMessages} dead letters (see argus stats)`);
      if (settled.storedRows !== settled.storedEvents)
        problems.push(
          `${settled.storedRows} rows hold ${settled.storedEvents} events: a duplicate reached the table`,
        );
    }
    if (ciDuplicates !== 1)
      problems.push(`CI's repeated delivery should be reported as 1 duplicate, got ${ciDuplicates}`);
    let published = 0;
    for (const port of agentPorts.values())
      published += metric(
        await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
        'argus_agent_events_total',
      );
    client.close();

    // 7. The report, through the CLI a user would type.
    const show = async (title: string, args: string[]) => {
      step(`${title}:  pnpm argus ${args.join(' ')}`);
      const result = await argus([...args, '--hub', hubAddress]);
      out(result.stdout);
      if (result.code !== 0) problems.push(`argus ${args[0]} failed: ${result.stderr.trim()}`);
    };
    await show('the unified stream, newest first', ['query', '--limit', '12']);
    await show('one service across every cluster', ['timeline', 'podinfo']);
    await show('DORA metrics per cluster', ['dora', '--since', '1d', '--group-by', 'cluster']);
    await show('who reports', ['instances']);
    step('what happened to duplicates');
    const fromAgents = all.events.filter((e) => e.instance !== 'ci').length;
    out(
      `  agents published ${published} events for ${fromAgents} occurrences: the Argo CD Agent principal and its spoke\n` +
        `  both reported every edge-1 change, and JetStream's duplicate window kept one of each (same source and id).\n` +
        `  CI delivered one artifact event twice; the ingest answered "duplicates: ${ciDuplicates}". The hub stored\n` +
        `  ${settled?.storedEvents ?? '?'} events in ${settled?.storedRows ?? '?'} rows, with ${settled?.deadLetterMessages ?? '?'} dead letters.\n`,
    );

    // The dashboard answers at / and its matrix has podinfo (the same query service as gRPC).
    const page = await fetch(`${ingest}/`).then((r) => r.text());
    if (!/\/assets\/(v-[\w-]+\/)?main\.js/.test(page))
      problems.push(`the dashboard at ${ingest}/ is not served`);
    const matrix = (await fetch(`${ingest}/api/v1/query/deployments`).then((r) => r.json())) as {
      deployments?: { service: string }[];
    };
    if (!matrix.deployments?.some((d) => d.service === 'podinfo'))
      problems.push("the dashboard's what-runs-where answer has no podinfo");

    step('try it yourself');
    out(
      [
        `  dashboard: ${ingest}/  (what runs where; /live, /dora, /instances, /services/podinfo)`,
        `  pnpm argus query --hub ${hubAddress} --cluster prod-eu --since 1d`,
        `  pnpm argus query --hub ${hubAddress} --type incident --output json`,
        `  pnpm argus tail --hub ${hubAddress}                    # live; Ctrl-C stops`,
        `  pnpm argus timeline --hub ${hubAddress} guestbook`,
        `  pnpm argus dora --hub ${hubAddress} --since 1d --group-by environment`,
        `  pnpm argus stats --hub ${hubAddress}`,
        `  pnpm argus send --ingest ${ingest} --token ${CI_TOKEN} --type change.merged --source /github/acme/podinfo --subject-id acme/podinfo/pull/99`,
        `  NATS ${natsUrl}: subscribe to cdevents.unified.> (all), cdevents.unified.prod-eu.> (one cluster),`,
        `    cdevents.unified.*.incident.detected (incidents); e.g. pnpm --filter @argus/examples rollback-reactor --nats ${natsUrl} --hub ${hubAddress}`,
        `  logs: ${logs}`,
        '',
      ].join('\n'),
    );

    if (problems.length === 0 && !options.signal.aborted) {
      if (options.durationMs === undefined) {
        out(bold('\nEverything is running. Ctrl-C stops it.\n'));
        await new Promise<void>((resolve) =>
          options.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
      } else if (options.durationMs > 0) {
        out(`\nStaying up for ${Math.round(options.durationMs / 1000)} s (--duration).\n`);
        await Promise.race([
          sleep(options.durationMs),
          new Promise((r) => options.signal.addEventListener('abort', r, { once: true })),
        ]);
      }
    }
    problems.push(...processes.map((p) => p.failure).filter((f): f is string => f !== undefined));
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  } finally {
    for (const p of [...processes].reverse()) await p.stop();
    await Promise.all(servers.map((s) => s.close()));
    if (!options.keep && problems.length === 0) rmSync(work, { recursive: true, force: true });
    else out(`\nwork directory kept: ${work}\n`);
  }
  return problems;
};
