/**
 * deploy/nats/accounts.conf on a real nats-server: each agent may publish only under its own instance
 * id and touch only its own KV keys, through the agent's own code (publishRaw, ProgressStore, the
 * heartbeat); the hub creates the streams and consumes. Then the real hub and agents (Kubernetes
 * watch and webhook sources) run end to end with those credentials on the 3-node cluster of
 * deploy/nats/nats-{1,2,3}.conf, with every stream and bucket at 3 replicas.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_OPTIONS, type AppProgress, ProgressStore, runAgent, WEBHOOK_PATH } from '@argus/agent';
import { buildScenario, runScenario, simulatorFor, startKubeApi } from '@argus/argocd-sim';
import {
  connectNats,
  ensureHubConsumer,
  ensureStreams,
  HUB_CONSUMER,
  openAgentsBucket,
  publishRaw,
  RAW_STREAM,
  readHeartbeats,
  writeHeartbeat,
} from '@argus/bus';
import { createEvent, deterministicId, toHttpBinary } from '@argus/cdevents';
import { HUB_OPTIONS, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import {
  captureLogs,
  clickHouseTarget,
  freePorts,
  NatsServer,
  randomDatabase,
  waitFor,
} from '@argus/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterEach, describe, expect, test } from 'vitest';

const NATS_DIR = fileURLToPath(new URL('../../deploy/nats/', import.meta.url));
const ACCOUNTS = readFileSync(join(NATS_DIR, 'accounts.conf'), 'utf8');
const PASSWORDS = {
  NATS_HUB_PASSWORD: 'hub-secret',
  NATS_ARGO_EU_PASSWORD: 'eu-secret',
  NATS_ARGO_US_PASSWORD: 'us-secret',
} as const;

const logs = captureLogs({ level: 'warn' });
const cleanups: (() => Promise<unknown> | undefined)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const connectAs = async (servers: string, user: string, password: string): Promise<NatsConnection> => {
  const nc = await connectNats({
    servers,
    name: `test-${user}`,
    user,
    password,
    inboxPrefix: `_INBOX_${user}`,
    logger: logs.logger,
  });
  cleanups.push(() => nc.close());
  return nc;
};

const event = (n: number) =>
  createEvent({
    type: 'service.deployed',
    source: '/argocd/prod-eu/podinfo',
    id: deterministicId(['podinfo', 'deployed', String(n)]),
    timestamp: '2026-11-24T10:15:00Z',
    subject: {
      id: 'podinfo',
      content: { environment: { id: 'prod-eu/podinfo' }, artifactId: 'pkg:oci/podinfo@sha256%3Aabc' },
    },
  });

const progress = (uid: string): AppProgress => ({
  v: 2,
  uid,
  address: '/argocd/prod-eu/podinfo/podinfo',
  name: 'podinfo',
  cluster: 'prod-eu',
  namespace: 'podinfo',
  lastHistoryId: 1,
  lastHistoryStartedAt: '2026-11-24T10:15:00Z',
  recent: [{ id: 1, version: 'abc' }],
  lastOperation: null,
  syncIncident: null,
  healthIncident: null,
  degradedSince: null,
  conditionIncident: null,
  conditionSince: null,
  removed: false,
});

const VIOLATION = /permissions violation/i;

describe('deploy/nats node configs', () => {
  test('nats-server accepts each node config; the nodes differ only in name, ports and store directory', () => {
    const texts = [1, 2, 3].map((i) => {
      const check = spawnSync(
        process.env.ARGUS_NATS_SERVER ?? 'nats-server',
        ['-t', '-c', `nats-${i}.conf`],
        {
          cwd: NATS_DIR,
          env: { ...process.env, ...PASSWORDS },
          encoding: 'utf8',
        },
      );
      expect(check.status, `nats-${i}.conf: ${check.stderr}`).toBe(0);
      return readFileSync(join(NATS_DIR, `nats-${i}.conf`), 'utf8');
    });
    const generic = texts.map((text, i) =>
      text
        .replaceAll(`nats-${i + 1}`, 'nats-N')
        .replaceAll(`${4222 + i}`, 'CLIENT')
        .replaceAll(`${8222 + i}`, 'MONITOR')
        .replace(`0.0.0.0:${6222 + i}`, '0.0.0.0:ROUTE'),
    );
    expect(new Set(generic).size).toBe(1);
    expect(texts[0]).toContain('include accounts.conf');
  });
});

describe('deploy/nats/accounts.conf on one node', () => {
  test('agent argo-eu publishes and writes only its own subjects and keys; the hub creates and consumes', async () => {
    const server = await NatsServer.start({ config: ACCOUNTS, env: PASSWORDS });
    cleanups.push(() => server.stop());

    const hub = await connectAs(server.url, 'hub', PASSWORDS.NATS_HUB_PASSWORD);
    const hubJsm = await jetstreamManager(hub);
    expect((await ensureStreams(hubJsm)).created).toEqual(['CDEVENTS_RAW', 'CDEVENTS', 'CDEVENTS_DLQ']);
    await ensureHubConsumer(hubJsm);

    const eu = await connectAs(server.url, 'argo-eu', PASSWORDS.NATS_ARGO_EU_PASSWORD);
    const euJs = jetstream(eu);
    // Its own subject: stored.
    const ack = await publishRaw(euJs, event(1), { instance: 'argo-eu', cluster: 'prod-eu' });
    expect(ack.stream).toBe(RAW_STREAM);
    // Another instance's subject: refused by the server.
    await expect(publishRaw(euJs, event(2), { instance: 'argo-us', timeoutMs: 2000 })).rejects.toThrow(
      VIOLATION,
    );

    // Its progress: the bucket is created on first use, its keys written and read back.
    const store = await ProgressStore.open(eu, 'argo-eu');
    await store.saveApp(progress('uid-1'));
    await store.saveEnvironments({ v: 1, environments: {} });
    expect([...(await store.loadApps()).keys()]).toEqual(['uid-1']);
    expect(await store.loadEnvironments()).toEqual({ v: 1, environments: {} });
    // Its heartbeat, but not another instance's.
    const agents = await openAgentsBucket(eu);
    await writeHeartbeat(agents, heartbeat('argo-eu'));
    await expect(writeHeartbeat(agents, heartbeat('argo-us'))).rejects.toThrow(VIOLATION);

    // argo-us writes its own progress; argo-eu can neither read nor overwrite it.
    const us = await connectAs(server.url, 'argo-us', PASSWORDS.NATS_ARGO_US_PASSWORD);
    const usStore = await ProgressStore.open(us, 'argo-us');
    await usStore.saveApp(progress('uid-9'));
    const intruder = await ProgressStore.open(eu, 'argo-us');
    await expect(intruder.saveApp(progress('uid-9'))).rejects.toThrow(VIOLATION);
    await expect(intruder.loadEnvironments()).rejects.toThrow(VIOLATION);
    await expect(intruder.loadApps()).rejects.toThrow(VIOLATION);
    // argo-eu's own connection still works after the refusals.
    await publishRaw(euJs, event(3), { instance: 'argo-eu' });

    // The hub consumes what argo-eu published, with the instance in the subject.
    const consumer = await jetstream(hub).consumers.get(RAW_STREAM, HUB_CONSUMER);
    const batch = await consumer.fetch({ max_messages: 2, expires: 5000 });
    const subjects: string[] = [];
    for await (const msg of batch) {
      subjects.push(msg.subject);
      msg.ack();
    }
    expect(subjects).toEqual([
      'cdevents.raw.argo-eu.service.deployed',
      'cdevents.raw.argo-eu.service.deployed',
    ]);

    // An agent can neither write the hub's streams nor read or reshape the raw stream.
    await expect(
      euJs.publish('cdevents.unified.prod-eu.service.deployed', '{}', { timeout: 2000 }),
    ).rejects.toThrow(VIOLATION);
    const euJsm = await jetstreamManager(eu);
    await expect(euJsm.streams.info(RAW_STREAM)).rejects.toThrow(VIOLATION);
    await expect(euJsm.consumers.add(RAW_STREAM, { durable_name: 'peek' })).rejects.toThrow(VIOLATION);
    await expect(euJsm.streams.add({ name: 'SHADOW', subjects: ['cdevents.raw.argo-us.>'] })).rejects.toThrow(
      VIOLATION,
    );
    // Replies: each user only under its own inbox prefix, so the messages the hub pulls stay the hub's.
    for (const subject of ['_INBOX_hub.>', '_INBOX.>', '_INBOX_argo-us.>']) {
      const closed = await eu.subscribe(subject).closed;
      expect(closed instanceof Error ? closed.message : 'subscribed', subject).toMatch(VIOLATION);
    }
  });
});

/** The three node configs of deploy/nats on free loopback ports, each started from a copy of the directory. */
const startDeployCluster = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'argus-deploy-nats-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const shipped = [4222, 4223, 4224, 8222, 8223, 8224, 6222, 6223, 6224];
  const free = await freePorts(shipped.length);
  const portOf = new Map(shipped.map((port, i) => [String(port), String(free[i])]));
  copyFileSync(join(NATS_DIR, 'accounts.conf'), join(dir, 'accounts.conf'));
  const nodes = [1, 2, 3].map((i) => {
    const text = readFileSync(join(NATS_DIR, `nats-${i}.conf`), 'utf8')
      .replace(/\b(4222|4223|4224|8222|8223|8224|6222|6223|6224)\b/g, (port) => portOf.get(port) ?? port)
      .replaceAll('0.0.0.0:', '127.0.0.1:');
    writeFileSync(join(dir, `nats-${i}.conf`), text);
    const output: string[] = [];
    const child = spawn(process.env.ARGUS_NATS_SERVER ?? 'nats-server', ['-c', `nats-${i}.conf`], {
      cwd: dir,
      env: { ...process.env, ...PASSWORDS },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => output.push(chunk.toString('utf8'));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    });
    return { child, output, client: portOf.get(String(4221 + i)), monitor: portOf.get(String(8221 + i)) };
  });
  await waitFor(
    async () => {
      for (const node of nodes) {
        if (node.child.exitCode !== null) throw new Error(`nats-server exited:\n${node.output.join('')}`);
        const jsz = (await (
          await fetch(`http://127.0.0.1:${node.monitor}/jsz`).catch(() => undefined)
        )
          ?.json()
          .catch(() => undefined)) as
          | { meta_cluster?: { leader?: string; cluster_size?: number } }
          | undefined;
        if (jsz?.meta_cluster?.leader === undefined || jsz.meta_cluster.leader === '') return false;
      }
      return true;
    },
    { what: 'a JetStream meta leader on all three deploy/nats nodes', timeoutMs: 30_000 },
  );
  return {
    urls: nodes.map((n) => `nats://127.0.0.1:${n.client}`).join(','),
    output: () => nodes.map((n) => n.output.join('')).join('\n'),
  };
};

describe('deploy/nats: the 3-node cluster with the accounts, end to end', () => {
  test('hub and agents (Kubernetes watch, webhook) run with their own credentials and 3 replicas', async () => {
    const cluster = await startDeployCluster();
    // Its own log capture: the first test's refusals must not count here.
    const processLogs = captureLogs({ level: 'warn' });
    const database = randomDatabase('argus_deploy');
    const ch = clickHouseTarget();
    const hub = await runHub(
      parseOptions(HUB_OPTIONS, {
        flags: {
          nats: cluster.urls,
          natsUser: 'hub',
          natsInboxPrefix: '_INBOX_hub',
          natsPassword: PASSWORDS.NATS_HUB_PASSWORD,
          replicas: '3',
          database,
          ...(ch.url === undefined ? { dataDir: ch.dataDir } : { clickhouseUrl: ch.url }),
          httpListen: '127.0.0.1:0',
          grpcListen: '127.0.0.1:0',
          logLevel: 'warn',
        },
      }),
      processLogs.destination,
    );
    cleanups.push(async () => {
      await hub.shutdown.shutdown('test done');
      await hub.store.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    });

    // argo-eu: the Kubernetes watch of Applications (the simulator's API server), as deploy/k8s/agent runs it.
    const scenario = buildScenario({
      instance: { name: 'argo-eu' },
      apps: [
        {
          name: 'podinfo',
          destination: { server: 'https://kubernetes.default.svc', namespace: 'podinfo' },
          source: { repoURL: 'https://github.com/stefanprodan/podinfo', path: 'kustomize' },
        },
      ],
      steps: [{ at: '0s', sync: { app: 'podinfo', revision: '6f1c2a9' } }],
    });
    const target = simulatorFor(scenario, new Date(Date.now() - 60_000));
    const kube = await startKubeApi(target.sim, { token: 'kube-token' });
    cleanups.push(() => kube.close());
    const spool = mkdtempSync(join(tmpdir(), 'argus-deploy-spool-'));
    cleanups.push(async () => rmSync(spool, { recursive: true, force: true }));
    const eu = await runAgent(
      parseOptions(AGENT_OPTIONS, {
        flags: {
          instance: 'argo-eu',
          source: 'kubernetes',
          cluster: 'prod-eu',
          kubeServer: kube.url,
          kubeToken: 'kube-token',
          nats: cluster.urls,
          natsUser: 'argo-eu',
          natsInboxPrefix: '_INBOX_argo-eu',
          natsPassword: PASSWORDS.NATS_ARGO_EU_PASSWORD,
          replicas: '3',
          spoolDir: spool,
          listen: '127.0.0.1:0',
          logLevel: 'warn',
        },
      }),
      processLogs.destination,
    );
    cleanups.push(() => eu.shutdown.shutdown('test done'));
    await runScenario(target, scenario, { instant: true });

    // argo-us: the Notifications webhook receiver.
    const us = await runAgent(
      parseOptions(AGENT_OPTIONS, {
        flags: {
          instance: 'argo-us',
          source: 'webhook',
          cluster: 'prod-us',
          webhookToken: 'hook-token',
          nats: cluster.urls,
          natsUser: 'argo-us',
          natsInboxPrefix: '_INBOX_argo-us',
          natsPassword: PASSWORDS.NATS_ARGO_US_PASSWORD,
          replicas: '3',
          listen: '127.0.0.1:0',
          logLevel: 'warn',
        },
      }),
      processLogs.destination,
    );
    cleanups.push(() => us.shutdown.shutdown('test done'));
    const { headers, body } = toHttpBinary(event(7));
    const posted = await fetch(`http://127.0.0.1:${us.http.address.port}${WEBHOOK_PATH}`, {
      method: 'POST',
      headers: { ...headers, authorization: 'Bearer hook-token' },
      body,
    });
    expect(posted.status).toBe(202);

    // environment.created + service.deployed from argo-eu, service.deployed from argo-us.
    await waitFor(() => hub.hub.stats().stored >= 3, {
      what: 'the hub to store 3 events',
      timeoutMs: 30_000,
    });
    const rows = await hub.store.rows<{ instance: string; type: string }>(
      `SELECT instance, type FROM ${database}.cdevents ORDER BY instance, type`,
    );
    expect(rows.map((r) => `${r.instance} ${r.type.replace(/\.\d+\.\d+\.\d+$/, '')}`)).toEqual([
      'argo-eu dev.cdevents.environment.created',
      'argo-eu dev.cdevents.service.deployed',
      'argo-us dev.cdevents.service.deployed',
    ]);
    expect(hub.hub.stats().deadLetters).toBe(0);

    // The hub reads both agents' heartbeats; every stream and bucket has 3 replicas.
    await waitFor(
      async () => (await readHeartbeats(hub.nc)).map((h) => h.instance).join(',') === 'argo-eu,argo-us',
      { what: 'heartbeats of argo-eu and argo-us' },
    );
    const jsm = await jetstreamManager(hub.nc);
    for (const stream of [
      'CDEVENTS_RAW',
      'CDEVENTS',
      'CDEVENTS_DLQ',
      'KV_argus_agents',
      'KV_argus_agent_progress',
    ]) {
      expect((await jsm.streams.info(stream)).config.num_replicas, stream).toBe(3);
    }
    expect(processLogs.text()).not.toMatch(VIOLATION);
    expect(cluster.output()).not.toMatch(VIOLATION);
  });
});

const heartbeat = (instance: string) => ({
  instance,
  architecture: 'distributed',
  source: 'kubernetes',
  version: 'test',
  clusters: ['prod-eu'],
  apps: 1,
  startedAt: new Date().toISOString(),
  lastSeen: new Date().toISOString(),
  spoolDepth: 0,
});
