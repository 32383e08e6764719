/**
 * Many clusters: an agent in another cluster reaches the hub's NATS directly, over TLS
 * (deploy/nats/client-tls.conf) with its own user of deploy/nats/accounts.conf. A real webhook agent
 * with the CA and its credentials; its events stored by a real hub.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_OPTIONS, runAgent, WEBHOOK_PATH } from '@argus/agent';
import { connectNats, publishRaw, RAW_STREAM } from '@argus/bus';
import { createEvent, toHttpBinary } from '@argus/cdevents';
import { HUB_OPTIONS, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import {
  captureLogs,
  clickHouseTarget,
  DEPLOY_NATS_ACCOUNTS,
  DEPLOY_NATS_DIR,
  DEPLOY_NATS_PASSWORDS,
  DEPLOY_NATS_STORE_LIMITS,
  makeTestCertificates,
  NatsServer,
  randomDatabase,
  waitFor,
} from '@argus/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, describe, expect, test } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';

const cleanups: (() => Promise<unknown> | undefined)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

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

describe('deploy/nats/client-tls.conf: an agent in another cluster', () => {
  test('a webhook agent publishes over TLS as its own user; the hub stores its events; those credentials cannot publish as another agent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'argus-remote-agent-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const certs = makeTestCertificates(dir);
    // The hub's NATS: the shipped accounts and client TLS block, with the test's certificate.
    const clientTls = readFileSync(join(DEPLOY_NATS_DIR, 'client-tls.conf'), 'utf8')
      .replaceAll('./tls/server.pem', certs.certFile)
      .replaceAll('./tls/server-key.pem', certs.keyFile);
    expect(clientTls).toContain(certs.certFile);
    const hubNats = await NatsServer.start({
      config: `${DEPLOY_NATS_ACCOUNTS}\n${clientTls}`,
      env: DEPLOY_NATS_PASSWORDS,
      jetstreamLimits: DEPLOY_NATS_STORE_LIMITS,
    });
    cleanups.push(() => hubNats.stop());
    const tlsUrl = `tls://localhost:${hubNats.port}`;

    // The hub, on the hub side, with its registry listing argo-eu.
    const registry = join(dir, 'registry.yaml');
    writeFileSync(
      registry,
      stringifyYaml({
        clusters: { 'prod-eu': { environment: 'production' } },
        instances: { 'argo-eu': { architecture: 'distributed', clusters: ['prod-eu'] } },
      }),
    );
    const processLogs = captureLogs({ level: 'warn' });
    const database = randomDatabase('argus_remote');
    const ch = clickHouseTarget();
    const hub = await runHub(
      parseOptions(HUB_OPTIONS, {
        flags: {
          nats: tlsUrl,
          natsCa: certs.caFile,
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

    // The agent in the other cluster: the CA, its own user and inbox prefix, nothing else.
    const agent = await runAgent(
      parseOptions(AGENT_OPTIONS, {
        flags: {
          instance: 'argo-eu',
          source: 'webhook',
          cluster: 'prod-eu',
          webhookToken: 'hook-token',
          nats: tlsUrl,
          natsCa: certs.caFile,
          natsUser: 'argo-eu',
          natsPassword: DEPLOY_NATS_PASSWORDS.NATS_ARGO_EU_PASSWORD,
          natsInboxPrefix: '_INBOX_argo-eu',
          listen: '127.0.0.1:0',
          logLevel: 'warn',
        },
      }),
      processLogs.destination,
    );
    cleanups.push(() => agent.shutdown.shutdown('test done'));
    const { headers, body } = toHttpBinary(deployed('remote-1'));
    const posted = await fetch(`http://127.0.0.1:${agent.http.address.port}${WEBHOOK_PATH}`, {
      method: 'POST',
      headers: { ...headers, authorization: 'Bearer hook-token' },
      body,
    });
    expect(posted.status).toBe(202);
    await waitFor(() => hub.hub.stats().stored >= 1, { what: 'the hub to store the remote agent event' });
    const rows = await hub.store.rows<{ id: string; instance: string; cluster: string }>(
      `SELECT id, instance, cluster FROM ${database}.cdevents`,
    );
    expect(rows).toEqual([{ id: 'remote-1', instance: 'argo-eu', cluster: 'prod-eu' }]);
    expect(hub.hub.stats().deadLetters).toBe(0);

    // With argo-eu's credentials, another instance's subject is refused (without the CA nothing connects:
    // test/security/tls.int.test.ts).
    const remote = await connectNats({
      servers: tlsUrl,
      name: 'remote-argo-eu',
      user: 'argo-eu',
      password: DEPLOY_NATS_PASSWORDS.NATS_ARGO_EU_PASSWORD,
      inboxPrefix: '_INBOX_argo-eu',
      tls: { caFile: certs.caFile },
      logger: processLogs.logger,
    });
    cleanups.push(() => remote.close());
    await expect(
      publishRaw(jetstream(remote), deployed('remote-2'), { instance: 'argo-us', timeoutMs: 2000 }),
    ).rejects.toThrow(/permissions violation/i);
    const raw = await (await jetstreamManager(hub.nc)).streams.info(RAW_STREAM, {
      subjects_filter: '>',
    });
    expect(Object.keys(raw.state.subjects ?? {})).toEqual(['cdevents.raw.argo-eu.service.deployed']);
  });
});
