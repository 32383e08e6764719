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
import { dirname, join } from 'node:path';
import { AGENT_OPTIONS, type AppProgress, ProgressStore, runAgent, WEBHOOK_PATH } from '@argus/agent';
import { buildScenario, runScenario, simulatorFor, startKubeApi } from '@argus/argocd-sim';
import {
  BucketMissingError,
  clusterToken,
  connectNats,
  DLQ_STREAM,
  ensureHubConsumer,
  ensureStreams,
  HUB_CONSUMER,
  openAgentsBucket,
  publishRaw,
  RAW_STREAM,
  rawMessageId,
  readHeartbeats,
  readHeartbeatsChecked,
  StreamDriftError,
  UNIFIED_STREAM,
  writeHeartbeat,
} from '@argus/bus';
import { createEvent, deterministicId, eventIdentity, toHttpBinary } from '@argus/cdevents';
import { buildRegistry, ensureAgentState, HUB_OPTIONS, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import {
  DEPLOY_NATS_ACCOUNTS as ACCOUNTS,
  captureLogs,
  clickHouseTarget,
  freePorts,
  DEPLOY_NATS_DIR as NATS_DIR,
  NatsServer,
  DEPLOY_NATS_STORE_LIMITS as NODE_STORE_LIMITS,
  DEPLOY_NATS_PASSWORDS as PASSWORDS,
  randomDatabase,
  waitFor,
} from '@argus/testkit';
import { JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { type NatsConnection, headers as natsHeaders } from '@nats-io/nats-core';
import { afterEach, describe, expect, test } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';

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

/** A deployment of payments on `cluster`, with the source an agent derives for it. */
const deployedOn = (cluster: string, id: string, digest: string) =>
  createEvent({
    type: 'service.deployed',
    source: `/argocd/${encodeURIComponent(cluster)}/payments/payments`,
    id,
    timestamp: '2026-11-24T10:15:00Z',
    subject: {
      id: 'payments',
      content: { environment: { id: `${cluster}/payments` }, artifactId: `pkg:oci/payments@${digest}` },
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
        .replace(`0.0.0.0:${6222 + i}`, '0.0.0.0:ROUTE')
        .replace(`0.0.0.0:${7422 + i}`, '0.0.0.0:LEAF'),
    );
    expect(new Set(generic).size).toBe(1);
    expect(texts[0]).toContain('include accounts.conf');
  });
});

/** The registry the hub runs with in these tests: each agent owns its clusters (strict by default). */
const REGISTRY = {
  clusters: {
    'prod-eu': { environment: 'production' },
    'prod-us': { environment: 'production' },
    // Two names that once shared the subject token prod_eu (finding 6).
    'prod.eu': { environment: 'staging' },
    prod_eu: { environment: 'production' },
  },
  instances: {
    'argo-eu': { architecture: 'hub-and-spoke', clusters: ['prod-eu', 'prod.eu'] },
    'argo-us': { architecture: 'distributed', clusters: ['prod-us', 'prod_eu'] },
  },
};

const rollupHeader = () => {
  const h = natsHeaders();
  h.set('Nats-Rollup', 'all');
  return h;
};

/** One node on deploy/nats/accounts.conf with the streams and the agents' buckets made by the hub's code. */
const startOneNode = async (options: { hubSetup?: boolean } = {}) => {
  const server = await NatsServer.start({
    config: ACCOUNTS,
    env: PASSWORDS,
    jetstreamLimits: NODE_STORE_LIMITS,
  });
  cleanups.push(() => server.stop());
  const hub = await connectAs(server.url, 'hub', PASSWORDS.NATS_HUB_PASSWORD);
  if (options.hubSetup !== false) {
    await ensureStreams(await jetstreamManager(hub));
    await ensureAgentState(hub, buildRegistry(REGISTRY), 1, logs.logger);
  }
  const eu = await connectAs(server.url, 'argo-eu', PASSWORDS.NATS_ARGO_EU_PASSWORD);
  const us = await connectAs(server.url, 'argo-us', PASSWORDS.NATS_ARGO_US_PASSWORD);
  return { server, hub, eu, us };
};

describe('deploy/nats/accounts.conf on one node', () => {
  test('agent argo-eu publishes and writes only its own subjects and keys; the hub creates and consumes', async () => {
    const { hub, eu, us } = await startOneNode({ hubSetup: false });
    const hubJsm = await jetstreamManager(hub);
    expect((await ensureStreams(hubJsm)).created).toEqual(['CDEVENTS_RAW', 'CDEVENTS', 'CDEVENTS_DLQ']);
    await ensureHubConsumer(hubJsm);
    await ensureAgentState(hub, buildRegistry(REGISTRY), 1, logs.logger);

    const euJs = jetstream(eu);
    // Its own subject: stored.
    const ack = await publishRaw(euJs, event(1), { instance: 'argo-eu', cluster: 'prod-eu' });
    expect(ack.stream).toBe(RAW_STREAM);
    // Another instance's subject: refused by the server.
    await expect(publishRaw(euJs, event(2), { instance: 'argo-us', timeoutMs: 2000 })).rejects.toThrow(
      VIOLATION,
    );

    // Its progress, in its own bucket (made by the hub): keys written and read back.
    const store = await ProgressStore.open(eu, 'argo-eu');
    await store.saveApp(progress('uid-1'));
    await store.saveEnvironments({ v: 1, environments: {} });
    expect([...(await store.loadApps()).keys()]).toEqual(['uid-1']);
    expect(await store.loadEnvironments()).toEqual({ v: 1, environments: {} });
    // Its heartbeat, but not another instance's.
    const agents = await openAgentsBucket(eu);
    await writeHeartbeat(agents, heartbeat('argo-eu'));
    await expect(writeHeartbeat(agents, heartbeat('argo-us'))).rejects.toThrow(VIOLATION);

    // argo-us writes its own progress; argo-eu can neither open, read nor overwrite its bucket.
    const usStore = await ProgressStore.open(us, 'argo-us');
    await usStore.saveApp(progress('uid-9'));
    await expect(ProgressStore.open(eu, 'argo-us')).rejects.toThrow(VIOLATION);
    const intruder = await new Kvm(eu).open('argus_agent_progress_argo-us', { allow_direct: true });
    await expect(intruder.put('app.uid-9', '{}')).rejects.toThrow(VIOLATION);
    await expect(intruder.get('app.uid-9')).rejects.toThrow(VIOLATION);
    await expect(intruder.keys()).rejects.toThrow(VIOLATION);
    expect([...(await usStore.loadApps()).keys()]).toEqual(['uid-9']);
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

  test('finding 2: a put with Nats-Rollup: all on its own keys is refused; no agent can purge or delete', async () => {
    const { hub, eu, us } = await startOneNode();
    const usStore = await ProgressStore.open(us, 'argo-us');
    await usStore.saveApp(progress('uid-us-1'));
    await usStore.saveApp(progress('uid-us-2'));
    await writeHeartbeat(await openAgentsBucket(us), heartbeat('argo-us'));
    const euStore = await ProgressStore.open(eu, 'argo-eu');
    await euStore.saveApp(progress('uid-eu-1'));
    await writeHeartbeat(await openAgentsBucket(eu), heartbeat('argo-eu'));

    // The review's attack: puts to keys argo-eu may write, with a roll-up header. The buckets refuse
    // roll-ups (and the account keeps no purge right), so the server answers with an error.
    const euJs = jetstream(eu);
    for (const subject of ['$KV.argus_agent_progress_argo-eu.app.x', '$KV.argus_agents.argo-eu']) {
      const refused = await euJs.publish(subject, '{}', { headers: rollupHeader() }).catch((e) => e);
      expect(refused, subject).toBeInstanceOf(JetStreamApiError);
      expect((refused as JetStreamApiError).message, subject).toMatch(/rollup not permitted/);
    }
    // The same header towards another agent's bucket is not even delivered.
    await expect(
      euJs.publish('$KV.argus_agent_progress_argo-us.app.x', '{}', {
        headers: rollupHeader(),
        timeout: 2000,
      }),
    ).rejects.toThrow(VIOLATION);
    // The JetStream API: purge, message delete, stream delete and update are refused on every bucket.
    for (const stream of [
      'KV_argus_agents',
      'KV_argus_agent_progress_argo-eu',
      'KV_argus_agent_progress_argo-us',
    ]) {
      for (const api of ['PURGE', 'DELETE', 'UPDATE', 'MSG.DELETE']) {
        const reply = await eu
          .request(`$JS.API.STREAM.${api}.${stream}`, '{}', { timeout: 2000 })
          .catch((e) => e);
        expect(reply instanceof Error ? reply.message : 'answered', `${api} ${stream}`).toMatch(VIOLATION);
      }
    }
    // Nothing was lost: argo-us's progress and both heartbeats are whole, the buckets unchanged.
    expect([...(await (await ProgressStore.open(us, 'argo-us')).loadApps()).keys()].sort()).toEqual([
      'uid-us-1',
      'uid-us-2',
    ]);
    expect([...(await euStore.loadApps()).keys()]).toEqual(['uid-eu-1']);
    expect((await readHeartbeats(hub)).map((h) => h.instance)).toEqual(['argo-eu', 'argo-us']);
    // And argo-eu goes on writing its own state.
    await euStore.saveApp(progress('uid-eu-2'));
    expect((await euStore.loadApps()).size).toBe(2);
  });

  test('finding 5: no agent may create or reshape a bucket stream; agents refuse a bucket someone else shaped', async () => {
    // A fresh server before the hub has started: the window the review used.
    const { server, hub, eu, us } = await startOneNode({ hubSetup: false });
    const euJsm = await jetstreamManager(eu);
    const rogue = [
      // Republish every agent's progress to argo-eu's inbox.
      {
        name: 'KV_argus_agent_progress_argo-us',
        subjects: ['$KV.argus_agent_progress_argo-us.>'],
        republish: { src: '$KV.argus_agent_progress_argo-us.>', dest: '_INBOX_argo-eu.steal.>' },
      },
      // Its own bucket, but shaped by itself (roll-ups on, extra subjects).
      {
        name: 'KV_argus_agent_progress_argo-eu',
        subjects: ['$KV.argus_agent_progress_argo-eu.>'],
        allow_rollup_hdrs: true,
      },
      // Capture the hub's replies, or block the hub's streams.
      { name: 'KV_argus_agents', subjects: ['$KV.argus_agents.>', '_INBOX_hub.>'] },
      { name: 'KV_argus_agents', subjects: ['$KV.argus_agents.>', 'cdevents.unified.>', 'cdevents.dlq.>'] },
    ];
    for (const config of rogue) {
      await expect(euJsm.streams.add(config), config.name).rejects.toThrow(VIOLATION);
    }
    // Before the hub has made its bucket, the agent says who must.
    await expect(ProgressStore.open(eu, 'argo-eu')).rejects.toBeInstanceOf(BucketMissingError);
    await expect(ProgressStore.open(eu, 'argo-eu')).rejects.toThrow(/registry/);
    const hubJsm = await jetstreamManager(hub);
    expect((await hubJsm.streams.list().next()).length).toBe(0);

    // The hub creates the buckets; the agents use them.
    await ensureStreams(hubJsm);
    await ensureAgentState(hub, buildRegistry(REGISTRY), 1, logs.logger);
    const usStore = await ProgressStore.open(us, 'argo-us');
    await usStore.saveApp(progress('secret-app-uid-123'));
    // STREAM.INFO with a subjects filter listed every agent's app uids (finding 3 c): another
    // agent's bucket is refused, and the heartbeat bucket lists instance ids only.
    await expect(
      eu.request(
        '$JS.API.STREAM.INFO.KV_argus_agent_progress_argo-us',
        JSON.stringify({ subjects_filter: '>' }),
        { timeout: 2000 },
      ),
    ).rejects.toThrow(VIOLATION);
    await expect(euJsm.streams.info('KV_argus_agent_progress', { subjects_filter: '>' })).rejects.toThrow(
      VIOLATION,
    );

    // A bucket shaped by someone with more rights than an agent (an operator's mistake) is refused by
    // the agent and by the hub, naming the field, and nothing is written into it.
    await hubJsm.streams.delete('KV_argus_agent_progress_argo-eu');
    await hubJsm.streams.add({
      name: 'KV_argus_agent_progress_argo-eu',
      subjects: ['$KV.argus_agent_progress_argo-eu.>'],
      allow_direct: true,
      republish: { src: '$KV.argus_agent_progress_argo-eu.>', dest: 'stolen.>' },
    });
    await expect(ProgressStore.open(eu, 'argo-eu')).rejects.toBeInstanceOf(StreamDriftError);
    await expect(ensureAgentState(hub, buildRegistry(REGISTRY), 1, logs.logger)).rejects.toThrow(/republish/);
    expect((await hubJsm.streams.info('KV_argus_agent_progress_argo-eu')).state.messages).toBe(0);
    expect(server.url).toContain('127.0.0.1');
  });

  test('migration: an agent reads its keys from the shared bucket of earlier versions once, and only its own', async () => {
    // The shipped accounts plus a user that plays the agents of an earlier version (they could write
    // the shared bucket; no user of the shipped file can any more).
    const server = await NatsServer.start({
      config: ACCOUNTS.replace('users: [', 'users: [\n      { user: earlier, password: earlier }'),
      env: PASSWORDS,
      jetstreamLimits: NODE_STORE_LIMITS,
    });
    cleanups.push(() => server.stop());
    const hub = await connectAs(server.url, 'hub', PASSWORDS.NATS_HUB_PASSWORD);
    await ensureAgentState(hub, buildRegistry(REGISTRY), 1, logs.logger);
    const eu = await connectAs(server.url, 'argo-eu', PASSWORDS.NATS_ARGO_EU_PASSWORD);
    const us = await connectAs(server.url, 'argo-us', PASSWORDS.NATS_ARGO_US_PASSWORD);
    // The shared bucket as an earlier agent created it, with two agents' keys.
    const earlier = await connectAs(server.url, 'earlier', 'earlier');
    const legacy = await new Kvm(earlier).create('argus_agent_progress', { history: 1 });
    await legacy.put('argo-us.app.uid-old-1', JSON.stringify(progress('uid-old-1')));
    await legacy.put('argo-us.environments', JSON.stringify({ v: 1, environments: { 'prod-us/x': 1 } }));
    await legacy.put('argo-eu.app.uid-eu', JSON.stringify(progress('uid-eu')));

    const first = await ProgressStore.open(us, 'argo-us');
    expect(first.migratedKeys).toBe(2);
    expect([...(await first.loadApps()).keys()]).toEqual(['uid-old-1']);
    expect(await first.loadEnvironments()).toEqual({ v: 1, environments: { 'prod-us/x': 1 } });
    // Read once: a later change to the legacy bucket is not read again.
    await legacy.put('argo-us.app.uid-old-2', JSON.stringify(progress('uid-old-2')));
    const again = await ProgressStore.open(us, 'argo-us');
    expect(again.migratedKeys).toBe(0);
    expect([...(await again.loadApps()).keys()]).toEqual(['uid-old-1']);
    // Only its own prefix: another agent's legacy keys stay out of reach.
    const peek = await new Kvm(eu).open('argus_agent_progress', { allow_direct: true });
    await expect(peek.get('argo-us.app.uid-old-1')).rejects.toThrow(VIOLATION);
    await expect(peek.keys('argo-us.>')).rejects.toThrow(VIOLATION);
    expect((await ProgressStore.open(eu, 'argo-eu')).migratedKeys).toBe(1);
  });
});

describe('deploy/nats/accounts.conf after the migration rights are deleted', () => {
  test('an agent that may not read the shared bucket leaves its migration for the next start', async () => {
    // The shipped file with the four migration lines deleted, as its comment says to do eventually.
    const migrationRight =
      /"\$JS\.(API\.CONSUMER\.(CREATE|INFO)|FC|API\.DIRECT\.GET)\.KV_argus_agent_progress\./;
    const trimmed = ACCOUNTS.split('\n')
      .filter((line) => !migrationRight.test(line))
      .join('\n')
      .replace('users: [', 'users: [\n      { user: earlier, password: earlier }');
    // Four lines in each of the two agent blocks and in the exports and imports of the leaf agent
    // argo-eu, and one user added.
    expect(trimmed.split('\n').length).toBe(ACCOUNTS.split('\n').length - 16 + 1);
    const server = await NatsServer.start({
      config: trimmed,
      env: PASSWORDS,
      jetstreamLimits: NODE_STORE_LIMITS,
    });
    cleanups.push(() => server.stop());
    const hub = await connectAs(server.url, 'hub', PASSWORDS.NATS_HUB_PASSWORD);
    await ensureAgentState(hub, buildRegistry(REGISTRY), 1, logs.logger);
    const earlier = await connectAs(server.url, 'earlier', 'earlier');
    const legacy = await new Kvm(earlier).create('argus_agent_progress', { history: 1 });
    await legacy.put('argo-us.app.uid-old-1', JSON.stringify(progress('uid-old-1')));
    const us = await connectAs(server.url, 'argo-us', PASSWORDS.NATS_ARGO_US_PASSWORD);
    // It starts (with no progress) and does not mark the migration as done, so that a start with the
    // rights back copies its progress instead of re-emitting every event.
    const store = await ProgressStore.open(us, 'argo-us');
    expect(store.migratedKeys).toBe(0);
    expect((await store.loadApps()).size).toBe(0);
    const own = await new Kvm(us).open('argus_agent_progress_argo-us', { allow_direct: true });
    expect(await own.get('migrated')).toBeNull();
    await store.saveApp(progress('uid-new'));
    expect([...(await store.loadApps()).keys()]).toEqual(['uid-new']);
  });
});

describe("deploy/nats/accounts.conf with the real hub: one agent cannot suppress, forge or relabel another's events", () => {
  test('findings 3, 6 and 16: message-id and source+id squatting, cluster spoofing and collisions, heartbeat spoofing', async () => {
    const { server, eu, us } = await startOneNode({ hubSetup: false });
    const dir = mkdtempSync(join(tmpdir(), 'argus-tenancy-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const registryFile = join(dir, 'registry.yaml');
    writeFileSync(registryFile, stringifyYaml(REGISTRY));
    const processLogs = captureLogs({ level: 'warn' });
    const database = randomDatabase('argus_tenancy');
    const ch = clickHouseTarget();
    const running = await runHub(
      parseOptions(HUB_OPTIONS, {
        flags: {
          nats: server.url,
          natsUser: 'hub',
          natsInboxPrefix: '_INBOX_hub',
          natsPassword: PASSWORDS.NATS_HUB_PASSWORD,
          registry: registryFile,
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
      await running.shutdown.shutdown('test done');
      await running.store.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    });
    const euJs = jetstream(eu);
    const usJs = jetstream(us);
    const usKey = (await ProgressStore.open(us, 'argo-us')).messageIdKey;
    const euKey = (await ProgressStore.open(eu, 'argo-eu')).messageIdKey;

    // (a) Nats-Msg-Id squatting: argo-eu publishes first, on its own subject, with every message id
    // it can compute for argo-us's next event: the old global one, and the new one without the key.
    const real = deployedOn('prod-us', 'us-deploy-42', 'sha256%3AREAL');
    for (const msgID of [
      eventIdentity(real.context.source, real.context.id),
      rawMessageId('argo-us', real.context.source, real.context.id),
      rawMessageId('argo-eu', real.context.source, real.context.id),
    ]) {
      const squat = await euJs.publish('cdevents.raw.argo-eu.service.deployed', 'junk', { msgID });
      expect(squat.duplicate).toBe(false);
    }
    const realAck = await publishRaw(usJs, real, {
      instance: 'argo-us',
      cluster: 'prod-us',
      msgIdKey: usKey,
    });
    expect(realAck.duplicate).toBe(false);

    // (b) source+id squatting: a valid event with argo-us's source and id and another artifact,
    // published first by argo-eu under either cluster header.
    const forged = deployedOn('prod-us', 'us-deploy-43', 'sha256%3AEVIL');
    await publishRaw(euJs, forged, { instance: 'argo-eu', cluster: 'prod-eu', msgIdKey: euKey });
    // (Another key: argo-eu's own window would absorb the same id.)
    await publishRaw(euJs, forged, { instance: 'argo-eu', cluster: 'prod-us', msgIdKey: 'another' });
    const genuine = deployedOn('prod-us', 'us-deploy-43', 'sha256%3AREAL');
    expect(
      (await publishRaw(usJs, genuine, { instance: 'argo-us', cluster: 'prod-us', msgIdKey: usKey }))
        .duplicate,
    ).toBe(false);

    // (c) cluster spoofing (finding 6): argo-eu's own source, a header naming argo-us's cluster.
    await publishRaw(euJs, deployedOn('prod-eu', 'eu-spoof', 'sha256%3AEU'), {
      instance: 'argo-eu',
      cluster: 'prod-us',
      msgIdKey: euKey,
    });
    // (d) two clusters whose names once shared the token prod_eu, each reported by its owner.
    await publishRaw(euJs, deployedOn('prod.eu', 'eu-dot', 'sha256%3ADOT'), {
      instance: 'argo-eu',
      cluster: 'prod.eu',
      msgIdKey: euKey,
    });
    await publishRaw(usJs, deployedOn('prod_eu', 'us-underscore', 'sha256%3AUND'), {
      instance: 'argo-us',
      cluster: 'prod_eu',
      msgIdKey: usKey,
    });

    // 3 junk, 2 forged and 1 spoofed are dead-lettered; argo-us's 3 events and argo-eu's 1 are stored.
    await waitFor(() => running.hub.stats().stored >= 4 && running.hub.stats().deadLetters >= 6, {
      what: 'the hub to store 4 events and dead-letter 6',
      timeoutMs: 30_000,
    });
    const rows = await running.store.rows<{
      id: string;
      instance: string;
      cluster: string;
      artifact_id: string;
    }>(`SELECT id, instance, cluster, artifact_id FROM ${database}.cdevents ORDER BY id`);
    expect(
      rows.map((r) => `${r.id} ${r.instance} ${r.cluster} ${r.artifact_id.replace(/^.*@/, '')}`),
    ).toEqual([
      'eu-dot argo-eu prod.eu sha256%3ADOT',
      'us-deploy-42 argo-us prod-us sha256%3AREAL',
      'us-deploy-43 argo-us prod-us sha256%3AREAL',
      'us-underscore argo-us prod_eu sha256%3AUND',
    ]);
    const dlq = await (await jetstreamManager(running.nc)).streams.info(DLQ_STREAM);
    const reasons: string[] = [];
    for (let seq = dlq.state.first_seq; seq <= dlq.state.last_seq; seq++) {
      const m = await (await jetstreamManager(running.nc)).streams.getMessage(DLQ_STREAM, { seq });
      reasons.push(`${m?.subject} ${m?.header.get('Argus-Error-Reason')}`);
    }
    expect(reasons.sort()).toEqual([
      'cdevents.dlq.argo-eu cluster-not-allowed',
      'cdevents.dlq.argo-eu cluster-not-allowed',
      'cdevents.dlq.argo-eu malformed-json',
      'cdevents.dlq.argo-eu malformed-json',
      'cdevents.dlq.argo-eu malformed-json',
      'cdevents.dlq.argo-eu source-not-owned',
    ]);
    // One subject token per cluster: a consumer of prod_eu gets argo-us's event only.
    const unified = await (await jetstreamManager(running.nc)).streams.info(UNIFIED_STREAM, {
      subjects_filter: '>',
    });
    expect(Object.keys(unified.state.subjects ?? {}).sort()).toEqual(
      [
        `cdevents.unified.${clusterToken('prod.eu')}.service.deployed`,
        'cdevents.unified.prod-us.service.deployed',
        'cdevents.unified.prod_eu.service.deployed',
      ].sort(),
    );
    expect(clusterToken('prod.eu')).not.toBe('prod_eu');

    // Finding 16: argo-eu's heartbeat claiming to be argo-us is not shown as argo-us.
    const agents = await openAgentsBucket(eu);
    await agents.put('argo-eu', JSON.stringify({ ...heartbeat('argo-us'), version: 'EVIL-9.9.9' }));
    await writeHeartbeat(await openAgentsBucket(us), heartbeat('argo-us'));
    const seen = await readHeartbeatsChecked(running.nc);
    expect(seen.heartbeats.map((h) => `${h.instance} ${h.version}`)).toEqual(['argo-us test']);
    expect(seen.refused).toEqual([{ key: 'argo-eu', reason: 'instance-mismatch' }]);
    expect(processLogs.text()).not.toMatch(VIOLATION);
  });
});

/** The three node configs of deploy/nats on free loopback ports, each started from a copy of the directory. */
const startDeployCluster = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'argus-deploy-nats-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const shipped = [4222, 4223, 4224, 8222, 8223, 8224, 6222, 6223, 6224, 7422, 7423, 7424];
  const free = await freePorts(shipped.length);
  const portOf = new Map(shipped.map((port, i) => [String(port), String(free[i])]));
  for (const file of ['accounts.conf', 'leaf-users.conf'])
    copyFileSync(join(NATS_DIR, file), join(dir, file));
  const nodes = [1, 2, 3].map((i) => {
    const text = readFileSync(join(NATS_DIR, `nats-${i}.conf`), 'utf8')
      .replace(
        /\b(4222|4223|4224|8222|8223|8224|6222|6223|6224|7422|7423|7424)\b/g,
        (port) => portOf.get(port) ?? port,
      )
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
    // The hub creates the agents' buckets for the instances of its registry.
    const registryFile = join(mkdtempSync(join(tmpdir(), 'argus-deploy-registry-')), 'registry.yaml');
    writeFileSync(registryFile, stringifyYaml(REGISTRY));
    cleanups.push(async () => rmSync(dirname(registryFile), { recursive: true, force: true }));
    const hub = await runHub(
      parseOptions(HUB_OPTIONS, {
        flags: {
          nats: cluster.urls,
          natsUser: 'hub',
          natsInboxPrefix: '_INBOX_hub',
          natsPassword: PASSWORDS.NATS_HUB_PASSWORD,
          registry: registryFile,
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
    const { headers, body } = toHttpBinary(deployedOn('prod-us', 'us-webhook-7', 'sha256%3Aabc'));
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
      'KV_argus_hub',
      'KV_argus_agent_progress_argo-eu',
      'KV_argus_agent_progress_argo-us',
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
