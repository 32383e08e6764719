/**
 * The consumer users of deploy/nats/accounts.conf on a real nats-server with the real hub: a consumer
 * reads the unified stream through subscribeUnified with its own durables, and may not publish, touch
 * another consumer's durables, list consumers, read KV or the raw stream. And the account's JetStream
 * limits: consumers per stream bounded, streams counted for the agents listed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  connectNats,
  publishRaw,
  RAW_STREAM,
  subscribeUnified,
  UNIFIED_STREAM,
  type UnifiedEvent,
} from '@argus/bus';
import { createEvent } from '@argus/cdevents';
import { HUB_OPTIONS, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import {
  captureLogs,
  clickHouseTarget,
  DEPLOY_NATS_ACCOUNTS,
  DEPLOY_NATS_PASSWORDS,
  DEPLOY_NATS_STORE_LIMITS,
  NatsServer,
  randomDatabase,
  waitFor,
} from '@argus/testkit';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';

const VIOLATION = /permissions violation/i;
const logs = captureLogs({ level: 'warn' });
const cleanups: (() => Promise<unknown> | undefined)[] = [];

let server: NatsServer;
let hubNc: NatsConnection;

const connectAs = async (user: string, password: string): Promise<NatsConnection> => {
  const nc = await connectNats({
    servers: server.url,
    name: `test-${user}`,
    user,
    password,
    inboxPrefix: `_INBOX_${user}`,
    logger: logs.logger,
  });
  cleanups.push(() => nc.close());
  return nc;
};

const deployed = (id: string) =>
  createEvent({
    type: 'service.deployed',
    source: '/argocd/prod-eu/payments/payments',
    id,
    timestamp: '2026-11-24T10:15:00Z',
    subject: {
      id: 'payments',
      content: { environment: { id: 'prod-eu/payments' }, artifactId: 'pkg:oci/payments@sha256%3Aabc' },
    },
  });

beforeAll(async () => {
  server = await NatsServer.start({
    config: DEPLOY_NATS_ACCOUNTS,
    env: DEPLOY_NATS_PASSWORDS,
    jetstreamLimits: DEPLOY_NATS_STORE_LIMITS,
  });
  cleanups.push(() => server.stop());
  const dir = mkdtempSync(join(tmpdir(), 'argus-consumers-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const registry = join(dir, 'registry.yaml');
  writeFileSync(
    registry,
    stringifyYaml({
      clusters: { 'prod-eu': { environment: 'production' } },
      instances: { 'argo-eu': { architecture: 'distributed', clusters: ['prod-eu'] } },
    }),
  );
  const database = randomDatabase('argus_consumers');
  const ch = clickHouseTarget();
  const hub = await runHub(
    parseOptions(HUB_OPTIONS, {
      flags: {
        nats: server.url,
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
    logs.destination,
  );
  cleanups.push(async () => {
    await hub.shutdown.shutdown('test done');
    await hub.store.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
  });
  hubNc = hub.nc;
  // An agent's event, through the hub to the unified stream.
  const eu = await connectAs('argo-eu', DEPLOY_NATS_PASSWORDS.NATS_ARGO_EU_PASSWORD);
  await publishRaw(jetstream(eu), deployed('pay-1'), { instance: 'argo-eu', cluster: 'prod-eu' });
  await waitFor(() => hub.hub.stats().republished >= 1, { what: 'the hub to republish 1 event' });
}, 60_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('deploy/nats/accounts.conf: consumer users', () => {
  test('a consumer reads the unified stream with its own durable, and resumes after its last ack', async () => {
    const nc = await connectAs('rollback-reactor', DEPLOY_NATS_PASSWORDS.NATS_ROLLBACK_REACTOR_PASSWORD);
    const seen: UnifiedEvent[] = [];
    const subscription = await subscribeUnified(nc, jetstream(nc), {
      durable: 'rollback-reactor',
      subjectType: 'service',
      start: 'all',
      handler: (e) => {
        seen.push(e);
      },
    });
    await waitFor(() => seen.length === 1, { what: 'the consumer to read the stored event' });
    expect(seen[0]?.event.context.id).toBe('pay-1');
    expect(seen[0]?.instance).toBe('argo-eu');
    expect(seen[0]?.cluster).toBe('prod-eu');
    await subscription.stop();
    // Its acks reached the server: the durable has nothing pending.
    const info = await (await jetstreamManager(hubNc)).consumers.info(UNIFIED_STREAM, 'rollback-reactor');
    expect(info.num_ack_pending).toBe(0);
    expect(info.delivered.stream_seq).toBe(info.ack_floor.stream_seq);
  });

  test('a consumer may not publish, take another consumer name, touch its durables, list consumers, read KV or the raw stream', async () => {
    const nc = await connectAs('rollback-reactor', DEPLOY_NATS_PASSWORDS.NATS_ROLLBACK_REACTOR_PASSWORD);
    const preview = await connectAs('preview-reactor', DEPLOY_NATS_PASSWORDS.NATS_PREVIEW_REACTOR_PASSWORD);
    const other = await subscribeUnified(preview, jetstream(preview), {
      durable: 'preview-reactor-changes',
      subjectType: 'change',
      handler: () => undefined,
    });
    cleanups.push(() => other.stop());
    const js = jetstream(nc);
    for (const subject of [
      'cdevents.unified.prod-eu.service.deployed',
      'cdevents.raw.argo-eu.service.deployed',
      'cdevents.dlq.argo-eu',
    ]) {
      await expect(js.publish(subject, '{}', { timeout: 2000 }), subject).rejects.toThrow(VIOLATION);
    }
    // Another consumer's name, or a name of nobody's: not through subscribeUnified, not through the API.
    await expect(
      subscribeUnified(nc, js, {
        durable: 'preview-reactor-changes',
        subjectType: 'change',
        handler: () => {},
      }),
    ).rejects.toThrow(VIOLATION);
    await expect(
      subscribeUnified(nc, js, { durable: 'rollback-reactor-2', handler: () => {} }),
    ).rejects.toThrow(VIOLATION);
    for (const api of [
      '$JS.API.CONSUMER.INFO.CDEVENTS.preview-reactor-changes',
      '$JS.API.CONSUMER.DELETE.CDEVENTS.preview-reactor-changes',
      '$JS.API.CONSUMER.MSG.NEXT.CDEVENTS.preview-reactor-changes',
      '$JS.API.CONSUMER.DURABLE.CREATE.CDEVENTS.preview-reactor-changes',
      '$JS.API.CONSUMER.CREATE.CDEVENTS.preview-reactor-changes.cdevents.unified.>',
      // an ephemeral (legacy subject) or a listing of every consumer's name and filter
      '$JS.API.CONSUMER.CREATE.CDEVENTS',
      '$JS.API.CONSUMER.LIST.CDEVENTS',
      '$JS.API.CONSUMER.NAMES.CDEVENTS',
      // the streams themselves
      '$JS.API.STREAM.INFO.CDEVENTS',
      '$JS.API.STREAM.INFO.CDEVENTS_RAW',
      '$JS.API.STREAM.PURGE.CDEVENTS',
      '$JS.API.STREAM.DELETE.CDEVENTS',
      '$JS.API.STREAM.MSG.GET.CDEVENTS_RAW',
      '$JS.API.CONSUMER.CREATE.CDEVENTS_RAW.peek.cdevents.raw.>',
      '$JS.ACK.CDEVENTS.preview-reactor-changes.1.1.1.1.1',
      '$JS.API.STREAM.CREATE.MINE',
    ]) {
      const reply = await nc.request(api, '{}', { timeout: 2000 }).catch((e: Error) => e);
      expect(reply instanceof Error ? reply.message : 'answered', api).toMatch(VIOLATION);
    }
    const jsm = await jetstreamManager(nc);
    await expect(jsm.consumers.add(RAW_STREAM, { durable_name: 'rollback-reactor' })).rejects.toThrow(
      VIOLATION,
    );
    const agents = await new Kvm(nc).open('argus_agents', { allow_direct: true });
    await expect(agents.get('argo-eu')).rejects.toThrow(VIOLATION);
    await expect(agents.put('argo-eu', '{}')).rejects.toThrow(VIOLATION);
    // Replies and live subjects: its own inbox only.
    for (const subject of ['_INBOX_hub.>', '_INBOX_preview-reactor.>', 'cdevents.>', '$KV.>']) {
      const closed = await nc.subscribe(subject).closed;
      expect(closed instanceof Error ? closed.message : 'subscribed', subject).toMatch(VIOLATION);
    }
    // The other consumer's durable is untouched.
    const info = await (await jetstreamManager(hubNc)).consumers.info(
      UNIFIED_STREAM,
      'preview-reactor-changes',
    );
    expect(info.config.filter_subject).toBe('cdevents.unified.*.change.*');
  });

  test('a push durable aimed at the raw stream delivers nothing there: no user of the file may subscribe to cdevents subjects', async () => {
    // Permissions see subjects, not request bodies: the server accepts a deliver subject of the
    // consumer's choosing. With no subscriber there (no user may subscribe to cdevents.…), nothing moves.
    const nc = await connectAs('preview-reactor', DEPLOY_NATS_PASSWORDS.NATS_PREVIEW_REACTOR_PASSWORD);
    const hubJsm = await jetstreamManager(hubNc);
    const rawBefore = (await hubJsm.streams.info(RAW_STREAM)).state.messages;
    await (await jetstreamManager(nc)).consumers.add(UNIFIED_STREAM, {
      durable_name: 'preview-reactor-environments',
      deliver_subject: 'cdevents.raw.argo-us.service.deployed',
      filter_subject: 'cdevents.unified.>',
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
    });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const info = await hubJsm.consumers.info(UNIFIED_STREAM, 'preview-reactor-environments');
    expect(info.delivered.stream_seq).toBe(0);
    expect((await hubJsm.streams.info(RAW_STREAM)).state.messages).toBe(rawBefore);
    await hubJsm.consumers.delete(UNIFIED_STREAM, 'preview-reactor-environments');
  });

  test('account limits: consumers per stream are bounded by max_consumers, and max_streams covers the agents listed', async () => {
    const limits = /jetstream: \{([^}]*)\}/.exec(DEPLOY_NATS_ACCOUNTS)?.[1] ?? '';
    const value = (name: string) => Number(new RegExp(`${name}: (\\d+)`).exec(limits)?.[1]);
    const maxConsumers = value('max_consumers');
    const maxStreams = value('max_streams');
    expect(maxConsumers).toBeGreaterThan(20);
    // The streams the hub creates (3 + argus_agents + argus_hub + the legacy bucket) and one an agent.
    const agents = [...DEPLOY_NATS_ACCOUNTS.matchAll(/password: \$NATS_ARGO_\w+_PASSWORD/g)].length;
    expect(agents).toBe(2);
    expect(maxStreams).toBeGreaterThanOrEqual(6 + agents);
    const jsm = await jetstreamManager(hubNc);
    const account = await jsm.getAccountInfo();
    expect(account.limits.max_consumers).toBe(maxConsumers);
    expect(account.limits.max_streams).toBe(maxStreams);
    // On a stream of its own (the hub may create streams): the limit-th consumer is the last.
    await jsm.streams.add({ name: 'LIMIT_PROBE', subjects: ['limit.probe'] });
    let created = 0;
    let refusal: unknown;
    for (let i = 0; i <= maxConsumers; i++) {
      try {
        await jsm.consumers.add('LIMIT_PROBE', { durable_name: `c${i}`, ack_policy: AckPolicy.Explicit });
        created++;
      } catch (error) {
        refusal = error;
        break;
      }
    }
    expect(created).toBe(maxConsumers);
    expect(String(refusal)).toMatch(/maximum consumers limit reached/);
    await jsm.streams.delete('LIMIT_PROBE');
  });
});
