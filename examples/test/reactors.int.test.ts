import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publishRaw, type UnifiedEvent } from '@argus/bus';
import { type CDEvent, createEvent } from '@argus/cdevents';
import { HUB_OPTIONS, type RunningHub, runHub } from '@argus/hub';
import type { TimelineEntry } from '@argus/query-api';
import { parseOptions } from '@argus/runtime';
import {
  ArgusProcess,
  captureLogs,
  DEPLOY_NATS_ACCOUNTS,
  DEPLOY_NATS_PASSWORDS,
  DEPLOY_NATS_STORE_LIMITS,
  NatsServer,
  waitFor,
} from '@argus/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { previewAction } from '../src/preview-plan.js';
import { describePlan, planRollback } from '../src/rollback-plan.js';

const T0 = Date.UTC(2026, 5, 1, 12);
const at = (m: number) => new Date(T0 + m * 60_000).toISOString();

const deployment = (n: number, cluster: string, minute: number): CDEvent =>
  createEvent({
    type: n === 1 ? 'service.deployed' : 'service.upgraded',
    id: `podinfo-${cluster}-${n}`,
    source: `/argocd/${cluster}/podinfo/podinfo`,
    timestamp: at(minute),
    subject: {
      id: 'podinfo',
      content: { environment: { id: `${cluster}/podinfo` }, artifactId: `pkg:oci/podinfo@${n}` },
    },
    customData: { argocd: { app: 'podinfo', historyId: n } },
  });

const incident = (id: string, cluster: string, minute: number): CDEvent =>
  createEvent({
    type: 'incident.detected',
    id,
    source: `/argocd/${cluster}/podinfo/podinfo`,
    timestamp: at(minute),
    subject: {
      id,
      content: {
        description: 'Degraded',
        environment: { id: `${cluster}/podinfo` },
        service: { id: 'podinfo' },
      },
    },
  });

const entry = (
  kind: string,
  cluster: string,
  minute: number,
  detail: string,
  historyId?: number,
): TimelineEntry => ({
  kind,
  detail,
  event: {
    id: `${kind}-${minute}`,
    source: '',
    type: '',
    specVersion: '0.5.1',
    subjectType: kind.split('.')[0] ?? '',
    predicate: kind.split('.')[1] ?? '',
    subjectId: 'podinfo',
    timestamp: new Date(at(minute)),
    instance: 'argo',
    cluster,
    environment: '',
    chainId: '',
    artifactId: detail,
    labels: {},
    identity: '',
    cdeventJson: JSON.stringify({ customData: { argocd: { app: 'podinfo', historyId } } }),
  },
});

describe('rollback plan', () => {
  test('skips deployments an incident followed and other clusters', () => {
    const timeline = [
      entry('service.deployed', 'prod', 0, 'v1', 1),
      entry('service.upgraded', 'prod', 10, 'v2', 2),
      entry('incident.detected', 'prod', 12, 'bad v2'),
      entry('service.upgraded', 'prod', 20, 'v3', 3),
      entry('service.upgraded', 'staging', 25, 'v4', 4),
    ];
    const plan = planRollback(
      { id: 'inc', cluster: 'prod', service: 'podinfo', at: new Date(at(30)) },
      timeline,
    );
    expect(plan?.current.artifact).toBe('v3');
    expect(plan?.target).toMatchObject({ artifact: 'v1', historyId: 1, app: 'podinfo' });
    expect(describePlan(plan!)).toContain('argocd app rollback podinfo 1');
    expect(
      planRollback({ id: 'inc', cluster: 'prod', service: 'podinfo', at: new Date(at(5)) }, timeline),
    ).toBeUndefined();
  });

  test('preview actions for changes and new environments only', () => {
    const tags = {
      instance: 'ci',
      cluster: 'prod-eu',
      environment: '',
      labels: {},
      specVersion: '0.5.1',
      identity: 'x',
      subject: 's',
      streamSequence: 1,
      redelivered: false,
    };
    const change = (predicate: 'created' | 'merged') =>
      ({
        ...tags,
        event: createEvent({
          type: `change.${predicate}`,
          source: '/gh',
          subject: { id: 'pr-9', content: {} },
        }),
      }) as UnifiedEvent;
    expect(previewAction(change('created'))).toBe('create preview environment for change pr-9');
    expect(previewAction(change('merged'))).toBe('delete preview environment of change pr-9 (merged)');
    const deployed = { ...tags, event: deployment(1, 'prod-eu', 0) } as UnifiedEvent;
    expect(previewAction(deployed)).toBeUndefined();
  });
});

describe('rollback reactor process against a real hub, on the users of deploy/nats/accounts.conf', () => {
  let server: NatsServer;
  let running: RunningHub;
  let dataDir: string;
  let reactor: ArgusProcess | undefined;

  beforeAll(async () => {
    server = await NatsServer.start({
      config: DEPLOY_NATS_ACCOUNTS,
      env: DEPLOY_NATS_PASSWORDS,
      jetstreamLimits: DEPLOY_NATS_STORE_LIMITS,
    });
    dataDir = mkdtempSync(join(tmpdir(), 'argus-examples-'));
    running = await runHub(
      parseOptions(HUB_OPTIONS, {
        flags: {
          nats: server.url,
          natsUser: 'hub',
          natsPassword: DEPLOY_NATS_PASSWORDS.NATS_HUB_PASSWORD,
          natsInboxPrefix: '_INBOX_hub',
          dataDir,
          httpListen: '127.0.0.1:0',
          grpcListen: '127.0.0.1:0',
          batchMaxWait: '20ms',
        },
        env: {},
      }),
      captureLogs().destination,
    );
  });
  afterAll(async () => {
    await reactor?.kill('SIGKILL');
    await running?.shutdown.shutdown('test done');
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('an incident after a bad upgrade prints the rollback to the last good deployment of that cluster', async () => {
    const js = jetstream(running.nc);
    for (const [event, cluster] of [
      [deployment(1, 'prod-eu', 0), 'prod-eu'],
      [deployment(2, 'prod-eu', 10), 'prod-eu'],
      [deployment(5, 'prod-us', 11), 'prod-us'],
    ] as const) {
      await publishRaw(js, event, { instance: 'argo', cluster });
    }
    await waitFor(() => running.hub.stats().stored === 3, { what: 'the deployments stored' });

    const script = fileURLToPath(new URL('../src/rollback-reactor.ts', import.meta.url));
    // Its NATS user as the hub's and the agents' options take it: flags, and the password from ARGUS_*.
    reactor = new ArgusProcess(
      [
        '--nats',
        server.url,
        '--nats-user',
        'rollback-reactor',
        '--nats-inbox-prefix',
        '_INBOX_rollback-reactor',
        '--hub',
        `127.0.0.1:${running.grpc.address.port}`,
      ],
      { script, env: { ARGUS_NATS_PASSWORD: DEPLOY_NATS_PASSWORDS.NATS_ROLLBACK_REACTOR_PASSWORD } },
    );
    let out = '';
    reactor.child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const jsm = await jetstreamManager(running.nc);
    await waitFor(
      async () => (await jsm.consumers.list('CDEVENTS').next()).some((c) => c.name === 'rollback-reactor'),
      {
        what: 'the reactor durable',
        timeoutMs: 20_000,
      },
    );
    await publishRaw(js, incident('inc-7', 'prod-eu', 15), { instance: 'argo', cluster: 'prod-eu' });
    await waitFor(() => out.includes('incident inc-7'), { what: 'the reactor to react', timeoutMs: 20_000 });
    expect(out).toContain(
      `incident inc-7 on podinfo in prod-eu: would roll back from pkg:oci/podinfo@2 to pkg:oci/podinfo@1 (deployed ${at(0)}): argocd app rollback podinfo 1`,
    );
  });
});
