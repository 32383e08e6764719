/**
 * Chaos harness: real processes (the `argus` CLI as subprocesses), real nats-servers, faults
 * injected from outside, and a verdict read from the places users read: the stored events (one per
 * event id?) and the unified stream (one message per event?).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connectNats, HUB_CONSUMER, publishRaw, RAW_STREAM, UNIFIED_STREAM } from '@argus/bus';
import { type CDEvent, createEvent } from '@argus/cdevents';
import { Store } from '@argus/store';
import { ArgusProcess, captureLogs, waitFor } from '@argus/testkit';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

export const RELIABILITY_DOC = fileURLToPath(new URL('../../docs/reliability.md', import.meta.url));

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const hubProcess = (
  nats: string,
  dataDir: string,
  options: {
    replicas?: number;
    env?: Record<string, string>;
    /** @default 127.0.0.1:0 */
    httpListen?: string;
    /** @default warn */
    logLevel?: string;
  } = {},
): ArgusProcess =>
  new ArgusProcess(
    [
      'hub',
      '--nats',
      nats,
      '--data-dir',
      dataDir,
      '--http-listen',
      options.httpListen ?? '127.0.0.1:0',
      '--grpc-listen',
      '127.0.0.1:0',
      '--batch-size',
      '500',
      '--batch-max-wait',
      '20ms',
      '--ack-wait',
      '5s',
      '--replicas',
      String(options.replicas ?? 1),
      '--log-level',
      options.logLevel ?? 'warn',
    ],
    { env: options.env },
  );

export const chaosEvent = (scenario: string, i: number): CDEvent =>
  createEvent({
    type: 'service.deployed',
    id: `${scenario}-${i}`,
    source: `/argocd/prod-eu/apps/app-${i % 50}`,
    timestamp: new Date(Date.UTC(2026, 10, 25, 0, 0, 0, 0) + i).toISOString(),
    subject: {
      id: `app-${i % 50}`,
      content: { environment: { id: 'prod-eu/apps' }, artifactId: `pkg:oci/app-${i % 50}@${i}` },
    },
  });

/**
 * Publishes `count` events onto CDEVENTS_RAW at about `perSecond`, each retried until JetStream
 * acknowledges it (at-least-once, as an agent does): NATS outages only slow it down.
 */
export const publishSteadily = async (
  servers: string,
  scenario: string,
  count: number,
  perSecond: number,
): Promise<void> => {
  const nc = await connectNats({
    servers,
    name: `chaos-${scenario}`,
    logger: captureLogs({ level: 'fatal' }).logger,
  });
  const js = jetstream(nc);
  const started = Date.now();
  const window = Math.max(1, Math.round(perSecond / 10));
  try {
    for (let start = 0; start < count; start += window) {
      const due = started + (start / perSecond) * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
      await Promise.all(
        Array.from({ length: Math.min(window, count - start) }, async (_, k) => {
          const event = chaosEvent(scenario, start + k);
          for (let attempt = 0; ; attempt++) {
            try {
              await publishRaw(js, event, { instance: 'chaos', cluster: 'prod-eu', timeoutMs: 2000 });
              return;
            } catch {
              await sleep(Math.min(1000, 50 * 2 ** attempt));
            }
          }
        }),
      );
    }
  } finally {
    await nc.close();
  }
};

/**
 * A JetStream manager with a long API timeout: a cluster that just lost a node answers slowly, and
 * the checks must not fail where the pipeline did not.
 */
export const patientJsm = (nc: NatsConnection) =>
  // No account-info request up front: the callers retry their own requests until the cluster answers.
  jetstreamManager(nc, { timeout: 30_000, checkAPI: false });

/** Waits until the hub consumer has acknowledged every message of CDEVENTS_RAW. */
export const waitDrained = async (
  nc: NatsConnection,
  expected: number,
  timeoutMs = 90_000,
): Promise<void> => {
  const jsm = await patientJsm(nc);
  await waitFor(
    async () => {
      try {
        const info = await jsm.consumers.info(RAW_STREAM, HUB_CONSUMER);
        return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= expected;
      } catch {
        return false;
      }
    },
    { what: `the hub to acknowledge ${expected} raw messages`, timeoutMs, intervalMs: 200 },
  );
};

/** Waits until a hub has created its streams and durable consumer (it is consuming). */
export const waitHubReady = async (
  nc: NatsConnection,
  hub: ArgusProcess,
  timeoutMs = 60_000,
): Promise<void> => {
  const jsm = await patientJsm(nc);
  await waitFor(
    async () => {
      if (hub.child.exitCode !== null) throw new Error(`the hub exited:\n${hub.output}`);
      return jsm.consumers.info(RAW_STREAM, HUB_CONSUMER).then(
        () => true,
        () => false,
      );
    },
    { what: 'the hub to create its consumer', timeoutMs, intervalMs: 100 },
  );
};

/** How often each event id appears on the unified stream. */
export const unifiedCounts = async (nc: NatsConnection): Promise<Map<string, number>> => {
  const jsm = await patientJsm(nc);
  const total = await waitFor(
    () =>
      jsm.streams.info(UNIFIED_STREAM).then(
        (i) => ({ n: i.state.messages }),
        () => undefined,
      ),
    { what: 'the unified stream info', timeoutMs: 120_000, intervalMs: 1000 },
  ).then((r) => r.n);
  const counts = new Map<string, number>();
  if (total === 0) return counts;
  // A cluster that just lost a node may answer API requests slowly: a long timeout, and retries.
  const js = jetstream(nc, { timeout: 30_000 });
  const consumer = await waitFor(
    () => js.consumers.get(UNIFIED_STREAM, { deliver_policy: DeliverPolicy.All }).catch(() => undefined),
    { what: 'an ordered consumer on the unified stream', timeoutMs: 120_000, intervalMs: 1000 },
  );
  const messages = await consumer.consume();
  let seen = 0;
  for await (const m of messages) {
    const id = m.headers?.get('ce-id') ?? '';
    counts.set(id, (counts.get(id) ?? 0) + 1);
    if (++seen >= total) break;
  }
  messages.stop();
  return counts;
};

export interface StoredCounts {
  /** Event id -> how many times a query returns it (the product's own query form). */
  readonly queryable: Map<string, number>;
  /** Rows in the table, duplicates before merges included. */
  readonly rows: number;
  /** Event type -> distinct events. */
  readonly byType: Map<string, number>;
}

/** Reads the hub's embedded store after the hub has exited (chdb: one process per data directory). */
export const storedCounts = async (dataDir: string): Promise<StoredCounts> => {
  const store = await Store.open({ dataDir, logger: captureLogs().logger });
  try {
    const ids = await store.rows<{ id: string; n: string | number }>(
      `SELECT id, count() AS n FROM (SELECT id FROM ${store.table('cdevents')} LIMIT 1 BY identity) GROUP BY id`,
    );
    const [{ rows } = { rows: 0 }] = await store.rows<{ rows: string | number }>(
      `SELECT count() AS rows FROM ${store.table('cdevents')}`,
    );
    const types = await store.rows<{ kind: string; n: string | number }>(
      `SELECT concat(subject_type, '.', predicate) AS kind, uniqExact(identity) AS n FROM ${store.table('cdevents')} GROUP BY kind`,
    );
    return {
      queryable: new Map(ids.map((r) => [r.id, Number(r.n)])),
      rows: Number(rows),
      byType: new Map(types.map((r) => [r.kind, Number(r.n)])),
    };
  } finally {
    await store.close();
  }
};

export interface ChaosRow {
  readonly scenario: string;
  readonly sent: number;
  readonly stored: number;
  /** Events a query returns more than once, plus unified-stream repeats. */
  readonly duplicates: number;
  readonly lost: number;
  /** Extra physical rows a background merge will collapse (never visible to queries). */
  readonly extraRows: number;
  readonly recoverMs: number;
  readonly fault: string;
}

/** The verdict for events sent with known ids: stored once, republished once. */
export const verdict = (
  scenario: string,
  fault: string,
  sentIds: readonly string[],
  stored: StoredCounts,
  unified: Map<string, number>,
  recoverMs: number,
): ChaosRow => {
  let lost = 0;
  let duplicates = 0;
  for (const id of sentIds) {
    const n = stored.queryable.get(id) ?? 0;
    if (n === 0) lost++;
    if (n > 1) duplicates += n - 1;
    const u = unified.get(id) ?? 0;
    if (u === 0) lost++;
    if (u > 1) duplicates += u - 1;
  }
  const storedIds = sentIds.filter((id) => (stored.queryable.get(id) ?? 0) > 0).length;
  return {
    scenario,
    fault,
    sent: sentIds.length,
    stored: storedIds,
    duplicates,
    lost,
    extraRows: stored.rows - stored.queryable.size,
    recoverMs,
  };
};

export const formatTable = (rows: readonly ChaosRow[]): string => {
  const header = [
    'scenario',
    'fault',
    'events sent',
    'stored',
    'duplicates',
    'lost',
    'extra rows (merged away)',
    'time to recover',
  ];
  const lines = rows.map((r) => [
    r.scenario,
    r.fault,
    String(r.sent),
    String(r.stored),
    String(r.duplicates),
    String(r.lost),
    String(r.extraRows),
    `${(r.recoverMs / 1000).toFixed(1)} s`,
  ]);
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...lines.map((l) => `| ${l.join(' | ')} |`),
  ].join('\n');
};

/**
 * Collects the rows of a suite: `check` records a row and asserts nothing was lost or repeated;
 * `report` prints (and with ARGUS_CHAOS_REPORT writes) the table once the suite is done.
 */
export const chaosSuite = (title: string, notes: readonly string[]) => {
  const rows: ChaosRow[] = [];
  return {
    check: (row: ChaosRow): void => {
      rows.push(row);
      if (row.lost !== 0 || row.duplicates !== 0 || row.stored !== row.sent)
        throw new Error(`${row.scenario}: ${JSON.stringify(row)}`);
    },
    report: () => report(title, rows, notes),
  };
};

/** Prints the table; with ARGUS_CHAOS_REPORT set (pnpm chaos), also writes docs/reliability.md. */
export const report = (title: string, rows: readonly ChaosRow[], notes: readonly string[]): void => {
  const table = formatTable(rows);
  console.log(`\n${title}\n${table}\n`);
  if (process.env.ARGUS_CHAOS_REPORT === undefined) return;
  writeFileSync(
    RELIABILITY_DOC,
    [
      '# Reliability',
      '',
      `Latest chaos run (\`pnpm chaos\`): ${new Date().toISOString().slice(0, 10)}, ${title}.`,
      'Real processes (the `argus` CLI), real nats-servers, faults injected from outside; the verdict is read',
      'from the stored events (how often a query returns each event id) and from the unified stream (how',
      'often each event id was republished). "Lost" and "duplicates" count both places.',
      '',
      table,
      '',
      ...notes.map((n) => `- ${n}`),
      '',
    ].join('\n'),
  );
};
