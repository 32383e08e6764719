/**
 * /metrics stays bounded whatever types producers send (adversarial review 2, finding 18), against
 * a real nats-server and the embedded ClickHouse.
 */
import { publishRaw } from '@argus/bus';
import { createCustomEvent, createEvent } from '@argus/cdevents';
import { Store } from '@argus/store';
import { captureLogs, clickHouseTarget, NatsServer, randomDatabase, waitFor } from '@argus/testkit';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Hub } from '../src/index.js';

const CUSTOM_TYPES = 200;
let server: NatsServer;
let nc: NatsConnection;
let store: Store;
let hub: Hub;
const logs = captureLogs({ level: 'info' });

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await server.connect();
  store = await Store.open({
    ...clickHouseTarget(),
    database: randomDatabase('metrics'),
    logger: logs.logger,
  });
  hub = new Hub({ nc, store, logger: logs.logger, batchSize: 500, batchMaxWaitMs: 100 });
  await hub.start();
});

afterAll(async () => {
  await hub?.stop();
  await store?.command(`DROP DATABASE IF EXISTS ${store.database}`);
  await store?.close();
  await nc?.close();
  await server?.stop();
});

test(`${CUSTOM_TYPES} distinct custom types are one "other" series; known types keep theirs`, async () => {
  const js = jetstream(nc);
  const now = new Date().toISOString();
  for (let i = 0; i < CUSTOM_TYPES; i++) {
    const event = createCustomEvent({
      type: `dev.cdeventsx.tool${i}-thing.happened.0.1.0`,
      id: `custom-${i}`,
      source: '/ci/flood',
      timestamp: now,
      subject: { id: `thing-${i}`, content: {} },
    });
    await publishRaw(js, event, { instance: 'argo-eu', cluster: 'prod-eu' });
  }
  const deployed = createEvent({
    type: 'service.deployed',
    id: 'known-1',
    source: '/argocd/prod-eu/podinfo/podinfo',
    timestamp: now,
    subject: { id: 'podinfo', content: { environment: { id: 'prod-eu/podinfo' }, artifactId: 'pkg:oci/p' } },
  });
  await publishRaw(js, deployed, { instance: 'argo-eu', cluster: 'prod-eu' });
  await waitFor(() => hub.stats().stored >= CUSTOM_TYPES + 1, {
    what: `all ${CUSTOM_TYPES + 1} events stored`,
    timeoutMs: 30_000,
  });
  const text = await hub.metrics.registry.metrics();
  const series = text.split('\n').filter((l) => l.startsWith('argus_hub_stored_total{'));
  expect(series.sort()).toEqual([
    `argus_hub_stored_total{type="${deployed.context.type}"} 1`,
    `argus_hub_stored_total{type="other"} ${CUSTOM_TYPES}`,
  ]);
  expect(text).not.toContain('cdeventsx');
});
