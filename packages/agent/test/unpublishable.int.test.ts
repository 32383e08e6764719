import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureStreams, HEADERS, rawMessageId } from '@argus/bus';
import { type CDEvent, createEvent, serialize } from '@argus/cdevents';
import { captureLogs, NatsServer, postRaw, waitFor } from '@argus/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ProgressStore, WEBHOOK_PATH } from '../src/index.js';
import { AgentMetrics } from '../src/metrics.js';
import { Publisher } from '../src/publishing.js';
import type { AppSource, SourceEvent } from '../src/sources/source.js';
import { Outbox } from '../src/state/outbox.js';
import { rawMessages, startWebhookReceiver, tempSpool, testAgent } from './fixtures.js';

// A server that takes messages of at most 8 KiB, headers included: easy to exceed on purpose.
const MAX_PAYLOAD = 8192;
const logs = captureLogs({ level: 'info' });
let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await NatsServer.start({ config: `max_payload: ${MAX_PAYLOAD}` });
  nc = await server.connect();
  await ensureStreams(await jetstreamManager(nc));
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

let seq = 0;
const deployed = (blobBytes = 0): CDEvent =>
  createEvent({
    type: 'service.deployed',
    id: `unpublishable-${++seq}`,
    source: '/argocd/prod-eu/podinfo/podinfo',
    subject: { id: 'podinfo', content: { environment: { id: 'prod-eu' }, artifactId: 'pkg:oci/podinfo' } },
    ...(blobBytes > 0 ? { customData: { blob: 'x'.repeat(blobBytes) } } : {}),
  });

/** A source that lists no applications and then waits: the agent only drains its spool. */
const idleSource = (): AppSource => {
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  return {
    name: 'kubernetes',
    reconnects: 0,
    lastError: undefined,
    clusterNames: async () => new Map(),
    async *events(): AsyncIterable<SourceEvent> {
      yield { type: 'snapshot', apps: [] };
      await stopped;
    },
    stop: () => stop(),
  };
};

test('a spooled event larger than max_payload is moved to the dead letters; the events behind it are published', async () => {
  const spoolFile = tempSpool('argus-unpublishable-');
  const outbox = await Outbox.open(spoolFile, 100);
  const before = deployed();
  const huge = deployed(2 * MAX_PAYLOAD);
  const after = deployed();
  for (const event of [before, huge, after])
    await outbox.append({ event: serialize(event), cluster: 'prod-eu' });
  await outbox.close();

  const agent = testAgent({
    nc,
    logger: logs.logger,
    source: idleSource(),
    instance: 'argo-unpublishable',
    architecture: 'distributed',
    inClusterName: 'prod-eu',
    spoolFile,
  });
  await agent.start();
  try {
    await waitFor(() => agent.spoolDepth === 0, { what: 'the spool to drain', timeoutMs: 10_000 });
    const ids = (await rawMessages(nc)).map((m) => m.json<CDEvent>().context.id);
    expect(ids).toEqual([before.context.id, after.context.id]);
    const deadLetters = readFileSync(join(dirname(spoolFile), 'dead-letters.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { reason: string; detail: string; entry: { event: string } });
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]?.reason).toBe('too-large-for-nats');
    expect(deadLetters[0]?.detail).toContain('max_payload');
    expect(deadLetters[0]?.entry.event).toBe(serialize(huge));
    expect(
      logs.find((l) => l.msg === 'event can never be published; moved to the dead letters beside the spool'),
    ).toBeDefined();
  } finally {
    await agent.stop();
  }
});

test('events spooled by the agent go out as spooled (the body is the serialized event, the headers those of rawMessage); one over max_payload is dead-lettered by size', async () => {
  const instance = 'argo-spooled';
  const spoolFile = tempSpool('argus-spooled-');
  const store = await ProgressStore.open(nc, instance);
  const publisher = await Publisher.open({
    nc,
    logger: logs.logger,
    metrics: new AgentMetrics(),
    instance,
    spoolFile,
    store,
  });
  const events = [deployed(), deployed(), deployed(2 * MAX_PAYLOAD), deployed(), deployed()];
  for (const event of events) await publisher.spool(event, 'prod-eu', undefined, undefined);
  publisher.start();
  try {
    await waitFor(() => publisher.depth === 0, { what: 'the spool to drain', timeoutMs: 10_000 });
    const published = (await rawMessages(nc)).filter((m) =>
      m.subject.startsWith(`cdevents.raw.${instance}.`),
    );
    const expected = events.filter((_, i) => i !== 2);
    expect(published.map((m) => m.string())).toEqual(expected.map((e) => serialize(e)));
    expect(published.map((m) => m.header.get(HEADERS.msgId))).toEqual(
      expected.map((e) => rawMessageId(instance, e.context.source, e.context.id, store.messageIdKey)),
    );
    expect(published.map((m) => m.header.get('ce-id'))).toEqual(expected.map((e) => e.context.id));
    expect(published.every((m) => m.header.get(HEADERS.destinationCluster) === 'prod-eu')).toBe(true);
    const deadLetters = readFileSync(join(dirname(spoolFile), 'dead-letters.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { reason: string; detail: string; entry: { event: string } });
    expect(deadLetters.map((d) => d.reason)).toEqual(['too-large-for-nats']);
    expect(deadLetters[0]?.detail).toContain(`max_payload of ${MAX_PAYLOAD}`);
    expect(deadLetters[0]?.entry.event).toBe(serialize(events[2] as CDEvent));
    expect(publisher.published).toBe(4);
  } finally {
    await publisher.stop();
  }
});

test('the webhook answers 413 for an event the NATS server cannot take, and keeps accepting others', async () => {
  const http = await startWebhookReceiver({
    nc,
    logger: logs.logger,
    instance: 'argo-webhook-413',
    inClusterName: 'prod-eu',
    maxEventBytes: 1_048_576,
  });
  try {
    const url = `http://127.0.0.1:${http.address.port}${WEBHOOK_PATH}`;
    const headers = { 'content-type': 'application/json' };
    const refused = await postRaw(url, Buffer.from(serialize(deployed(2 * MAX_PAYLOAD))), { headers });
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.text)).toMatchObject({ reason: 'too-large' });
    const accepted = await postRaw(url, Buffer.from(serialize(deployed())), { headers });
    expect(accepted.status).toBe(202);
  } finally {
    await http.close();
  }
});
