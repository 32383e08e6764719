/**
 * Many clusters through a leaf node: the hub's NATS with the shipped JetStream domain, leaf listener
 * (deploy/nats/nats-1.conf, leaf-users.conf) and accounts; in the agent's cluster a nats-server from
 * deploy/nats/leaf-agent.conf, without JetStream. A real agent (Kubernetes watch of the Argo CD
 * simulator) on the leaf with --nats-js-domain: its events stored by a real hub, its progress kept in
 * its KV bucket across a restart. Without the domain it stops with an error that names the flag. And
 * the leaf account holds: what a leaf sends, whatever it is, reaches only argo-eu's subjects.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_OPTIONS, runAgent } from '@argus/agent';
import { buildScenario, runScenario, simulatorFor, startKubeApi } from '@argus/argocd-sim';
import {
  DLQ_STREAM,
  JetStreamUnreachableError,
  progressBucket,
  RAW_STREAM,
  readHeartbeats,
  UNIFIED_STREAM,
} from '@argus/bus';
import { HUB_OPTIONS, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import {
  captureLogs,
  clickHouseTarget,
  DEPLOY_NATS_ACCOUNTS,
  DEPLOY_NATS_DIR,
  DEPLOY_NATS_PASSWORDS,
  DEPLOY_NATS_STORE_LIMITS,
  freePort,
  NatsServer,
  randomDatabase,
  runArgus,
  waitFor,
} from '@argus/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, describe, expect, test } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';

const cleanups: (() => Promise<unknown> | undefined)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const shipped = (file: string) => readFileSync(join(DEPLOY_NATS_DIR, file), 'utf8');
const node = shipped('nats-1.conf');
/** The hub's JetStream domain, as nats-1.conf sets it (every node the same). */
const DOMAIN = /^\s*domain:\s*(\S+)/m.exec(node)?.[1] ?? '';

/**
 * The hub's nats-server: the shipped accounts and nats-1.conf's domain and leafnodes block (its users
 * inlined, the port a free one); a single node, as the cluster would be without its routes.
 */
const startHubNats = async () => {
  const leafPort = await freePort();
  const leafnodes = /^leafnodes \{[\s\S]*?^\}/m.exec(node)?.[0];
  expect(leafnodes, 'nats-1.conf has a leafnodes block').toBeDefined();
  const users = shipped('leaf-users.conf');
  const block = (leafnodes ?? '')
    .replace(/listen: 0\.0\.0\.0:\d+/, `listen: 127.0.0.1:${leafPort}`)
    .replace('include leaf-users.conf', users);
  expect(block).toContain('argo-eu-leaf');
  const server = await NatsServer.start({
    config: `${DEPLOY_NATS_ACCOUNTS}\n${block}`,
    env: DEPLOY_NATS_PASSWORDS,
    jetstreamLimits: DEPLOY_NATS_STORE_LIMITS,
    jetstreamDomain: DOMAIN,
  });
  cleanups.push(() => server.stop());
  return { server, leafPort };
};

/** leaf-agent.conf on a free port (the test kit sets listen and server_name), connected to `leafPort`. */
const startLeaf = async (leafPort: number, user: string, password: string) => {
  const config = shipped('leaf-agent.conf')
    .replace(/^listen: .*$/m, '')
    .replace(/^server_name: .*$/m, '');
  const leaf = await NatsServer.start({
    jetstream: false,
    config,
    env: { NATS_HUB_LEAF_URL: `nats-leaf://${user}:${password}@127.0.0.1:${leafPort}` },
  });
  cleanups.push(() => leaf.stop());
  return leaf;
};

const leafConnections = async (server: NatsServer): Promise<number> => {
  const leafz = (await (await fetch(`http://127.0.0.1:${server.monitorPort}/leafz`)).json()) as {
    leafnodes?: number;
  };
  return leafz.leafnodes ?? 0;
};

describe('deploy/nats/leaf-agent.conf: an agent in another cluster on a leaf node', () => {
  test('the agent on the leaf publishes and keeps its progress through the JetStream domain; without the domain it says what to set', async () => {
    expect(DOMAIN).toBe('hub');
    const { server: hubNats, leafPort } = await startHubNats();
    const leaf = await startLeaf(leafPort, 'argo-eu-leaf', DEPLOY_NATS_PASSWORDS.NATS_ARGO_EU_LEAF_PASSWORD);
    await waitFor(async () => (await leafConnections(hubNats)) === 1, { what: 'the leaf node to connect' });

    const dir = mkdtempSync(join(tmpdir(), 'argus-leaf-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const registry = join(dir, 'registry.yaml');
    writeFileSync(
      registry,
      stringifyYaml({
        clusters: { 'prod-eu': { environment: 'production' } },
        instances: { 'argo-eu': { architecture: 'distributed', clusters: ['prod-eu'] } },
      }),
    );
    const processLogs = captureLogs({ level: 'warn' });
    const database = randomDatabase('argus_leaf');
    const ch = clickHouseTarget();
    const hub = await runHub(
      parseOptions(HUB_OPTIONS, {
        flags: {
          nats: hubNats.url,
          natsUser: 'hub',
          natsInboxPrefix: '_INBOX_hub',
          natsPassword: DEPLOY_NATS_PASSWORDS.NATS_HUB_PASSWORD,
          registry,
          database,
          ...(ch.url === undefined ? { dataDir: ch.dataDir } : { clickhouseUrl: ch.url }),
          httpListen: '127.0.0.1:0',
          grpcListen: '127.0.0.1:0',
          batchMaxWait: '20ms',
          logLevel: 'warn',
        },
      }),
      processLogs.destination,
    );
    cleanups.push(async () => {
      await hub.shutdown.shutdown('test done');
      await hub.store.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    });

    // Argo CD in the agent's cluster: the simulator's Kubernetes API, one app synced once.
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
    const spoolDir = join(dir, 'spool');
    const agentFlags = (jsDomain: string | undefined) => ({
      instance: 'argo-eu',
      source: 'kubernetes',
      cluster: 'prod-eu',
      kubeServer: kube.url,
      kubeToken: 'kube-token',
      // the leaf, with no user: its leaf connection is argo-eu's account
      nats: leaf.url,
      natsInboxPrefix: '_INBOX_argo-eu',
      ...(jsDomain === undefined ? {} : { natsJsDomain: jsDomain }),
      spoolDir,
      listen: '127.0.0.1:0',
      logLevel: 'warn',
    });
    const startAgent = (jsDomain: string | undefined) =>
      runAgent(parseOptions(AGENT_OPTIONS, { flags: agentFlags(jsDomain) }), processLogs.destination);

    // Without the domain, JetStream's plain API does not cross the leaf: the agent stops and says why.
    const refused = await startAgent(undefined).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(JetStreamUnreachableError);
    expect((refused as Error).message).toMatch(/leaf node.*--nats-js-domain/);
    // The `argus agent` command says the same and exits.
    const cli = await runArgus(
      [
        'agent',
        '--instance',
        'argo-eu',
        '--source',
        'webhook',
        '--nats',
        leaf.url,
        '--nats-inbox-prefix',
        '_INBOX_argo-eu',
        '--listen',
        '127.0.0.1:0',
        '--spool-dir',
        join(dir, 'cli-spool'),
      ],
      { timeoutMs: 60_000 },
    );
    expect(cli.code).not.toBe(0);
    expect(cli.stdout + cli.stderr).toMatch(/leaf node.*--nats-js-domain/);
    // A domain that is not the hub's names the flag to check.
    const wrong = await startAgent('elsewhere').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(wrong).toBeInstanceOf(JetStreamUnreachableError);
    expect((wrong as Error).message).toMatch(/domain "elsewhere".*--nats-js-domain/);

    const first = await startAgent(DOMAIN);
    await runScenario(target, scenario, { instant: true });
    await waitFor(() => hub.hub.stats().stored >= 2, { what: 'the hub to store 2 events from the leaf' });
    const rows = await hub.store.rows<{ instance: string; cluster: string; type: string }>(
      `SELECT instance, cluster, type FROM ${database}.cdevents ORDER BY type`,
    );
    expect(rows.map((r) => `${r.instance} ${r.cluster} ${r.type.replace(/\.\d+\.\d+\.\d+$/, '')}`)).toEqual([
      'argo-eu prod-eu dev.cdevents.environment.created',
      'argo-eu prod-eu dev.cdevents.service.deployed',
    ]);
    expect(first.agent.published).toBe(2);
    // Its progress and heartbeat went through the leaf into the hub's buckets.
    const jsm = await jetstreamManager(hub.nc);
    const bucket = await jsm.streams.info(`KV_${progressBucket('argo-eu')}`, { subjects_filter: '>' });
    expect(Object.keys(bucket.state.subjects ?? {}).some((s) => s.includes('.app.'))).toBe(true);
    await waitFor(async () => (await readHeartbeats(hub.nc)).some((h) => h.instance === 'argo-eu'), {
      what: "argo-eu's heartbeat through the leaf",
    });
    await first.shutdown.shutdown('restart');

    // A restart reads its progress back through the leaf: nothing is published again.
    const second = await startAgent(DOMAIN);
    cleanups.push(() => second.shutdown.shutdown('test done'));
    await waitFor(() => second.agent.synced, { what: 'the restarted agent to list the apps' });
    expect(second.agent.published).toBe(0);
    expect((await jsm.streams.info(RAW_STREAM)).state.messages).toBe(2);
    expect(hub.hub.stats().deadLetters).toBe(0);
    expect(processLogs.text()).not.toMatch(/permissions violation/i);
  });

  test('the leaf account holds whatever the leaf sends; no user of accounts.conf can connect a leaf', async () => {
    const { server: hubNats, leafPort } = await startHubNats();
    const hub = await hubNats.connect({
      user: 'hub',
      pass: DEPLOY_NATS_PASSWORDS.NATS_HUB_PASSWORD,
      inboxPrefix: '_INBOX_hub',
    });
    cleanups.push(() => hub.close());
    const jsm = await jetstreamManager(hub);
    for (const [name, subjects] of [
      [RAW_STREAM, ['cdevents.raw.>']],
      [UNIFIED_STREAM, ['cdevents.unified.>']],
      [DLQ_STREAM, ['cdevents.dlq.>']],
    ] as const)
      await jsm.streams.add({ name, subjects: [...subjects] });

    // A leaf node is a server that the other cluster runs: this one speaks the leaf protocol by hand
    // and ignores the permissions nats-server sends it, as a tampered one could.
    const raw = await rawLeaf(leafPort, 'argo-eu-leaf', DEPLOY_NATS_PASSWORDS.NATS_ARGO_EU_LEAF_PASSWORD);
    cleanups.push(async () => raw.socket.destroy());
    expect(raw.received()).not.toMatch(/-ERR/);
    raw.send('LS+ _INBOX_argo-eu.tamper.>');
    raw.send('LMSG cdevents.raw.argo-eu.service.deployed 2\r\nok');
    await waitFor(async () => (await jsm.streams.info(RAW_STREAM)).state.messages === 1, {
      what: "the leaf's own event in the raw stream",
    });
    raw.send('LMSG cdevents.raw.argo-us.service.deployed 2\r\nno');
    raw.send('LMSG cdevents.unified.prod-eu.service.deployed 2\r\nno');
    raw.send('LMSG cdevents.dlq.argo-us 2\r\nno');
    raw.send(`LMSG $JS.${DOMAIN}.API.STREAM.PURGE.${RAW_STREAM} + _INBOX_argo-eu.tamper.1 0\r\n`);
    raw.send(`LMSG $JS.${DOMAIN}.API.STREAM.DELETE.${DLQ_STREAM} + _INBOX_argo-eu.tamper.2 0\r\n`);
    raw.send(`LMSG $JS.${DOMAIN}.API.$KV.argus_agents.argo-us 2\r\nno`);
    raw.send('PING');
    // The hub handles a connection's messages in order: by the PONG, all of the above has been routed.
    await waitFor(() => raw.received().includes('PONG'), { what: 'the PONG of the tampered leaf' });
    const rawInfo = await jsm.streams.info(RAW_STREAM, { subjects_filter: '>' });
    expect(rawInfo.state.subjects).toEqual({ 'cdevents.raw.argo-eu.service.deployed': 1 });
    expect((await jsm.streams.info(UNIFIED_STREAM)).state.messages).toBe(0);
    expect((await jsm.streams.info(DLQ_STREAM)).state.messages).toBe(0);
    expect(raw.received()).not.toContain('_INBOX_argo-eu.tamper.');

    // The leaf port takes only the users of leaf-users.conf: argo-eu's own user (ARGUS) is refused.
    const argus = await rawLeaf(leafPort, 'argo-eu', DEPLOY_NATS_PASSWORDS.NATS_ARGO_EU_PASSWORD);
    cleanups.push(async () => argus.socket.destroy());
    await waitFor(() => argus.received().includes('Authorization Violation'), {
      what: 'the leaf port to refuse an ARGUS user',
    });
    expect(await leafConnections(hubNats)).toBe(1);
  });
});

/** A leaf connection spoken by hand: CONNECT as `user`, then whatever the test sends. */
const rawLeaf = async (port: number, user: string, password: string) => {
  const socket: Socket = connectTcp({ port, host: '127.0.0.1' });
  let text = '';
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  socket.on('error', () => undefined);
  await waitFor(() => text.startsWith('INFO '), { what: "the hub's INFO on its leaf port" });
  const send = (line: string) => socket.write(`${line}\r\n`);
  send(
    `CONNECT ${JSON.stringify({ user, pass: password, name: 'tampered', headers: true, server_id: 'NTAMPERED', cluster: 'tampered' })}`,
  );
  send('PING');
  await waitFor(() => text.includes('PONG') || text.includes('-ERR'), { what: 'the hub to answer CONNECT' });
  text = text.includes('-ERR') ? text : '';
  return { socket, send, received: () => text };
};
