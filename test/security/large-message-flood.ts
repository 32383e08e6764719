/**
 * Finding 4 of adversarial review 2, measured: one agent floods CDEVENTS_RAW with large junk
 * messages, another publishes a few valid events among them. Runs a real nats-server and the hub as
 * its own process (the CLI, embedded ClickHouse). The hub is paused (SIGSTOP) while the flood is
 * published and resumed once it is all in the stream, as after a restart or an outage: the worst
 * case, a backlog it may pull at once. Reports the hub's RSS before and at its peak, how long the
 * backlog took to drain and how long the other agent's events waited to reach the unified stream.
 *
 *   node --conditions=argus-source --import tsx test/security/large-message-flood.ts \
 *     [--messages 2000] [--bytes 921600] [-- <extra hub flags, e.g. --max-in-flight-bytes 16777216>]
 *
 * The junk is stored twice (raw stream and dead letters): 2,000 x 900 KB fits the test kit's 4 GB
 * JetStream store; 2,500 fills it, and the dead letters then wait for room (finding 19).
 * Linux only (reads /proc). Every process it starts is stopped at the end.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HUB_CONSUMER, publishRaw, RAW_STREAM } from '@argus/bus';
import { createEvent } from '@argus/cdevents';
import { ArgusProcess, freePort, NatsServer, waitFor } from '@argus/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';

const { values, positionals } = parseArgs({
  options: { messages: { type: 'string', default: '2000' }, bytes: { type: 'string', default: '921600' } },
  allowPositionals: true,
});
const messages = Number(values.messages);
const bytes = Number(values.bytes);
const VICTIMS = 20;

/** A field of /proc/<pid>/status in MB (VmRSS, VmHWM). */
const memoryMb = (pid: number, field: 'VmRSS' | 'VmHWM'): number => {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0; // the hub has exited: the wait below says so
  }
  const line = status.split('\n').find((l) => l.startsWith(`${field}:`));
  return Math.round(Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024);
};

const dir = mkdtempSync(join(tmpdir(), 'argus-flood-'));
const nats = await NatsServer.start();
const httpPort = await freePort();
const hub = new ArgusProcess([
  'hub',
  '--nats',
  nats.url,
  '--data-dir',
  join(dir, 'hub'),
  '--http-listen',
  `127.0.0.1:${httpPort}`,
  '--grpc-listen',
  '127.0.0.1:0',
  '--log-level',
  'error',
  ...positionals,
]);
const nc = await nats.connect();
try {
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => undefined))?.status === 200,
    { what: 'the hub to be ready', timeoutMs: 60_000 },
  );
  const pid = hub.child.pid ?? 0;
  const baseline = memoryMb(pid, 'VmRSS');
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const junk = new Uint8Array(bytes).fill(0x7b); // '{{{{...': malformed JSON
  let victimsPublishedAt = 0;
  let victimsArrivedAt: number | undefined;
  let arrived = 0;
  nc.subscribe('cdevents.unified.prod-us.>', {
    callback: () => {
      if (++arrived === VICTIMS) victimsArrivedAt = Date.now();
    },
  });
  hub.child.kill('SIGSTOP');
  const publishStarted = Date.now();
  for (let i = 0; i < messages; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, messages - i) }, () =>
        js.publish('cdevents.raw.argo-eu.service.deployed', junk),
      ),
    );
    // The other agent publishes once the flood has begun.
    if (i === Math.floor(messages / 200) * 20) {
      for (let v = 0; v < VICTIMS; v++) {
        const event = createEvent({
          type: 'service.deployed',
          id: `victim-${v}`,
          source: '/argocd/prod-us/payments/payments',
          timestamp: new Date().toISOString(),
          subject: {
            id: 'payments',
            content: { environment: { id: 'prod-us' }, artifactId: 'pkg:oci/payments' },
          },
        });
        await publishRaw(js, event, { instance: 'argo-us', cluster: 'prod-us' });
      }
    }
  }
  const publishSeconds = (Date.now() - publishStarted) / 1000;
  const started = Date.now();
  victimsPublishedAt = started;
  let peakRss = baseline;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, memoryMb(pid, 'VmRSS'));
  }, 100);
  hub.child.kill('SIGCONT');
  await waitFor(
    async () => {
      if (!hub.running) throw new Error(`the hub exited:\n${hub.output}`);
      const info = await jsm.consumers.info(RAW_STREAM, HUB_CONSUMER);
      return victimsArrivedAt !== undefined && info.num_pending === 0 && info.num_ack_pending === 0;
    },
    { what: 'the hub to drain the flood', timeoutMs: 900_000, intervalMs: 200 },
  );
  clearInterval(sampler);
  const report = {
    messages,
    messageBytes: bytes,
    hubFlags: positionals.join(' '),
    rssBeforeMb: baseline,
    peakRssMb: Math.max(peakRss, memoryMb(pid, 'VmHWM')),
    rssAfterMb: memoryMb(pid, 'VmRSS'),
    publishSeconds: Math.round(publishSeconds * 10) / 10,
    drainSeconds: Math.round((Date.now() - started) / 100) / 10,
    // From the hub's resumption: they were in the stream behind a tenth of the flood.
    otherAgentWaitedSeconds: Math.round(((victimsArrivedAt ?? 0) - victimsPublishedAt) / 100) / 10,
  };
  console.log(JSON.stringify(report));
} finally {
  await hub.stop().catch(() => hub.kill());
  await nc.close();
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
}
