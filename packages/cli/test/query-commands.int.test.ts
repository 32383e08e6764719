import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAgentsBucket, writeHeartbeat } from '@argus/bus';
import { createEvent } from '@argus/cdevents';
import { HUB_OPTIONS, type RunningHub, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import { ArgusProcess, captureLogs, NatsServer, runArgus, waitFor } from '@argus/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const API_TOKEN = 'api-secret';
const CI_TOKEN = 'ci-secret';

let server: NatsServer;
let running: RunningHub;
let dataDir: string;
let hub: string;
let ingest: string;

/**
 * The argus binary as a subprocess, with the hub's address and token in the environment. Async:
 * the hub runs in this process, so a blocking spawnSync would stop it from answering.
 */
const argus = (args: string[], options: { input?: string; env?: Record<string, string> } = {}) =>
  runArgus(args, { ...options, env: { ARGUS_HUB: hub, ARGUS_QUERY_TOKEN: API_TOKEN, ...options.env } });

const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const HOUR_AGO = new Date(Date.now() - 3_600_000);
const minutesAfter = (m: number) => new Date(HOUR_AGO.getTime() + m * 60_000).toISOString();

beforeAll(async () => {
  server = await NatsServer.start();
  dataDir = mkdtempSync(join(tmpdir(), 'argus-cli-query-'));
  running = await runHub(
    parseOptions(HUB_OPTIONS, {
      flags: {
        nats: server.url,
        dataDir,
        httpListen: '127.0.0.1:0',
        grpcListen: '127.0.0.1:0',
        apiTokens: `ops=${API_TOKEN}`,
        ingestTokens: `ci=${CI_TOKEN}`,
        batchMaxWait: '20ms',
      },
      env: {},
    }),
    captureLogs().destination,
  );
  hub = `127.0.0.1:${running.grpc.address.port}`;
  ingest = `http://127.0.0.1:${running.http.address.port}`;
  await liveHeartbeat();
});

/** argo-eu's heartbeat, seen now (the file's tests take over a minute on a crowded machine). */
const liveHeartbeat = async () =>
  writeHeartbeat(await openAgentsBucket(running.nc), {
    instance: 'argo-eu',
    architecture: 'distributed',
    source: 'kubernetes',
    version: '0.1.0',
    clusters: ['prod-eu'],
    apps: 3,
    startedAt: HOUR_AGO.toISOString(),
    lastSeen: new Date().toISOString(),
    spoolDepth: 0,
  });

afterAll(async () => {
  await running?.shutdown.shutdown('test done');
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('argus send, query, timeline, dora, instances, stats, tail against a real hub', () => {
  test('send builds events from flags or files and reports refusals with the reason', async () => {
    const merged = await argus([
      'send',
      '--ingest',
      ingest,
      '--token',
      CI_TOKEN,
      '--type',
      'change.merged',
      '--source',
      '/github/acme/podinfo',
      '--subject-id',
      'acme/podinfo/pull/7',
      '--id',
      'pr-7-merged',
      '--chain-id',
      'sha-7',
      '--timestamp',
      minutesAfter(0),
    ]);
    expect(merged.stderr).toBe('');
    expect(merged.code).toBe(0);
    expect(JSON.parse(merged.stdout)).toMatchObject({ status: 202, id: 'pr-7-merged' });

    const deployed = createEvent({
      type: 'service.deployed',
      id: 'podinfo-7-deployed',
      source: '/argocd/prod-eu/podinfo/podinfo',
      timestamp: minutesAfter(25),
      chainId: 'sha-7',
      subject: {
        id: 'podinfo',
        content: { environment: { id: 'prod-eu/podinfo' }, artifactId: 'pkg:oci/podinfo@7' },
      },
    });
    const fromStdin = await argus(['send', '-', '--ingest', ingest, '--token', CI_TOKEN], {
      input: JSON.stringify(deployed),
    });
    expect(fromStdin.code).toBe(0);

    const invalid = await argus(['send', '-', '--ingest', ingest, '--token', CI_TOKEN], {
      input: JSON.stringify({ ...deployed, context: { ...deployed.context, timestamp: 'yesterday' } }),
    });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('context.timestamp: must be an RFC 3339 timestamp');

    const wrongToken = await argus(['send', '-', '--ingest', ingest, '--token', 'nope'], {
      input: JSON.stringify(deployed),
    });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain('HTTP 403');

    const usage = await argus([
      'send',
      '--ingest',
      ingest,
      '--type',
      'change.mergd',
      '--source',
      '/x',
      '--subject-id',
      'y',
    ]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('is not a CDEvents type');

    await waitFor(async () => running.hub.stats().stored >= 2, { what: 'both sent events stored' });
  });

  test('query prints tables or one JSON object per line with the full event', async () => {
    const json = await argus(['query', '--output', 'json', '--since', '2h']);
    expect(json.code).toBe(0);
    const lines = jsonLines(json.stdout);
    expect(lines.map((l) => l.id)).toEqual(['podinfo-7-deployed', 'pr-7-merged']);
    expect(lines[0]).toMatchObject({
      type: 'dev.cdevents.service.deployed.0.3.0',
      instance: 'ci',
      subjectId: 'podinfo',
      timestamp: minutesAfter(25),
    });
    expect((lines[0]?.event as { context?: { chainId?: string } } | undefined)?.context?.chainId).toBe(
      'sha-7',
    );

    const table = await argus(['query', '--type', 'change.merged']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^TIME\s+CLUSTER\s+INSTANCE\s+TYPE\s+SUBJECT\s+ID$/);
    expect(table.stdout).toContain('change.merged');
    expect(table.stdout).not.toContain('service.deployed');

    const injected = await argus(['query', '--output', 'json', '--subject-id', "podinfo' OR '1'='1"]);
    expect(injected.code).toBe(0);
    expect(injected.stdout).toBe('');
  });

  test('timeline, dora, instances and stats answer in tables and JSON', async () => {
    const timeline = await argus(['timeline', 'podinfo']);
    expect(timeline.code).toBe(0);
    expect(timeline.stdout).toContain('service.deployed');
    expect(timeline.stdout).toContain('pkg:oci/podinfo@7');
    expect(timeline.stdout).not.toContain('change.merged');
    // --upstream: the change merged in the deployment's chain, in time order before it.
    const traced = await argus(['timeline', 'podinfo', '--upstream']);
    expect(traced.code).toBe(0);
    const kinds = traced.stdout.split('\n').filter((l) => / (change|service)\.\w+ /.test(l));
    expect(kinds.map((l) => /(change\.merged|service\.deployed)/.exec(l)?.[1])).toEqual([
      'change.merged',
      'service.deployed',
    ]);
    expect(traced.stdout).toContain('acme/podinfo/pull/7');

    const dora = await argus(['dora', '--since', '1d', '--output', 'json']);
    expect(dora.code).toBe(0);
    expect(jsonLines(dora.stdout)[0]).toMatchObject({
      deployments: 1,
      leadTimeSamples: 1,
      leadTimeMedianSeconds: 1500,
    });
    expect((await argus(['dora', '--group-by', 'cluster'])).stdout).toContain('LEAD TIME');

    await liveHeartbeat();
    const instances = await argus(['instances']);
    expect(instances.code).toBe(0);
    expect(instances.stdout).toMatch(/argo-eu\s+live\s+distributed\s+kubernetes\s+prod-eu/);
    expect(instances.stdout).toMatch(/\nci\s/);

    const stats = jsonLines((await argus(['stats', '--output', 'json'])).stdout)[0];
    expect(stats).toMatchObject({ storedEvents: 2, consumerPending: 0 });
  });

  test('refusals print the status and message, never a stack trace', async () => {
    const noToken = await argus(['query'], { env: { ARGUS_QUERY_TOKEN: '' } });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('UNAUTHENTICATED: missing bearer token');
    expect(noToken.stderr).not.toMatch(/\n\s+at /);

    const badTimeline = await argus(['timeline', 'podinfo', '--limit', '99999']);
    expect(badTimeline.code).toBe(1);
    expect(badTimeline.stderr).toContain('INVALID_ARGUMENT: limit must be at most 5000');

    const unreachable = await argus(['stats', '--hub', '127.0.0.1:1', '--timeout', '2s']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('UNAVAILABLE: cannot reach the hub at 127.0.0.1:1');

    // A refused tail used to hang with no output (adversarial review 2, finding 15).
    const started = performance.now();
    const wrongTail = await argus(['tail', '--token', 'wrong-token']);
    expect(wrongTail.code).toBe(1);
    expect(wrongTail.stderr).toContain('UNAUTHENTICATED: unknown token');
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  test('tail follows new events, stops after --count, and ends cleanly on SIGINT', async () => {
    const tail = new ArgusProcess(['tail', '--output', 'json', '--type', 'incident', '--count', '1'], {
      env: { ARGUS_HUB: hub, ARGUS_QUERY_TOKEN: API_TOKEN },
    });
    let out = '';
    tail.child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const consumers = async () =>
      (await (await import('@nats-io/jetstream')).jetstreamManager(running.nc)).streams
        .info('CDEVENTS')
        .then((i) => i.state.consumer_count);
    await waitFor(async () => (await consumers()) === 1, {
      what: 'the tail to subscribe',
      timeoutMs: 20_000,
    });
    const send = (id: string, type: string) =>
      argus([
        'send',
        '--ingest',
        ingest,
        '--token',
        CI_TOKEN,
        '--type',
        type,
        '--source',
        '/monitoring/podinfo',
        '--subject-id',
        id,
        ...(type === 'incident.detected'
          ? [
              '--content',
              JSON.stringify({
                description: 'latency',
                environment: { id: 'prod-eu/podinfo' },
                service: { id: 'podinfo' },
              }),
            ]
          : []),
      ]);
    expect((await send('build-1', 'build.finished')).code).toBe(0);
    expect((await send('incident-1', 'incident.detected')).code).toBe(0);
    expect((await tail.exited).code).toBe(0);
    expect(jsonLines(out).map((l) => [l.subjectId, l.type])).toEqual([
      ['incident-1', 'dev.cdevents.incident.detected.0.3.0'],
    ]);

    const follower = new ArgusProcess(['tail'], { env: { ARGUS_HUB: hub, ARGUS_TOKEN: API_TOKEN } });
    await waitFor(async () => (await consumers()) === 1, {
      what: 'the second tail to subscribe',
      timeoutMs: 20_000,
    });
    await follower.kill('SIGINT');
    expect((await follower.exited).code).toBe(0);
    await waitFor(async () => (await consumers()) === 0, {
      what: 'the tail consumer to go',
      timeoutMs: 10_000,
    });
  });

  test('query and ingest tokens are apart: send never takes the query token; ARGUS_TOKEN is deprecated', async () => {
    // The query token is in the environment (the helper sets ARGUS_QUERY_TOKEN): send still uses its own.
    const sent = await argus(
      [
        'send',
        '--ingest',
        ingest,
        '--type',
        'build.finished',
        '--source',
        '/ci/tokens',
        '--subject-id',
        'b-1',
      ],
      { env: { ARGUS_INGEST_TOKEN: CI_TOKEN, ARGUS_TOKEN: API_TOKEN } },
    );
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    const old = await argus(['stats'], { env: { ARGUS_QUERY_TOKEN: '', ARGUS_TOKEN: API_TOKEN } });
    expect(old.code).toBe(0);
    expect(old.stderr).toContain('ARGUS_TOKEN is deprecated: set ARGUS_QUERY_TOKEN');
  });

  test('--hub takes http:// URLs; an event without a cluster is "unassigned" in the table and the filter', async () => {
    const port = hub.split(':')[1];
    const viaUrl = await argus(['query', '--hub', `http://127.0.0.1:${port}`, '--since', '2h']);
    expect(viaUrl.code).toBe(0);
    // Every event here came through the HTTP ingest: no cluster.
    const rows = viaUrl.stdout.trim().split('\n').slice(1);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.split(/\s+/)[1]).toBe('unassigned');
    const filtered = await argus(['query', '--cluster', 'unassigned', '--since', '2h', '--output', 'json']);
    expect(jsonLines(filtered.stdout).length).toBe(rows.length);
    const other = await argus(['query', '--cluster', 'prod-eu', '--since', '2h', '--output', 'json']);
    expect(other.stdout).toBe('');
    const path = await argus(['query', '--hub', `https://127.0.0.1:${port}/api`]);
    expect(path.code).toBe(2);
    expect(path.stderr).toContain('--hub takes host, host:port, http://host[:port] or https://host[:port]');
  });

  test('usage errors are one line and a hint: unknown types and flags get a did-you-mean, strays are refused', async () => {
    const type = await argus(['query', '--type', 'service.deplyed']);
    expect(type.code).toBe(2);
    expect(type.stderr).toBe(
      'argus query: --type "service.deplyed" is not a CDEvents type; did you mean "service.deployed"?\nRun "argus query --help" for its options.\n',
    );
    const subject = await argus(['tail', '--type', 'incidnet']);
    expect(subject.code).toBe(2);
    expect(subject.stderr).toContain('did you mean "incident"?');
    const flag = await argus(['query', '--clustr', 'prod-eu']);
    expect(flag.code).toBe(2);
    expect(flag.stderr.split('\n')[0]).toBe(
      'argus query: unknown option --clustr; did you mean "--cluster"?',
    );
    const stray = await argus(['query', 'prod-eu']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('takes no arguments, got "prod-eu"');
    expect(stray.stderr.trim().split('\n')).toHaveLength(2);
    const since = await argus(['tail', '--since', '10m']);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('--replay-from');
  });

  test('instances marks an agent whose heartbeat is stale', async () => {
    await liveHeartbeat();
    await writeHeartbeat(await openAgentsBucket(running.nc), {
      instance: 'argo-gone',
      architecture: 'distributed',
      source: 'kubernetes',
      version: '0.1.0',
      clusters: ['prod-us'],
      apps: 1,
      startedAt: HOUR_AGO.toISOString(),
      lastSeen: new Date(Date.now() - 5 * 60_000).toISOString(),
      spoolDepth: 0,
    });
    const table = await argus(['instances']);
    expect(table.stdout).toMatch(/argo-gone\s+stale\s/);
    expect(table.stdout).toMatch(/argo-eu\s+live\s/);
    const json = jsonLines((await argus(['instances', '--output', 'json', '--stale-after', '10m'])).stdout);
    expect(json.find((i) => i.instance === 'argo-gone')?.state).toBe('live');
  });

  test('where: what runs where, as a table and as JSON, filtered', async () => {
    const where = await argus(['where']);
    expect(where.code).toBe(0);
    expect(where.stdout).toMatch(/SERVICE\s+CLUSTER\s+VERSION/);
    // Sent through the HTTP ingest: no cluster (`-`).
    expect(where.stdout).toMatch(/\npodinfo\s+-\s+pkg:oci\/podinfo@7\s+deployed\s+\S+Z\s+ci\s+\d+\n/);
    const whereJson = jsonLines((await argus(['where', '--output', 'json'])).stdout);
    expect(whereJson).toContainEqual(
      expect.objectContaining({
        service: 'podinfo',
        kind: 'service.deployed',
        artifactId: 'pkg:oci/podinfo@7',
      }),
    );
    expect(jsonLines((await argus(['where', '--cluster', 'nowhere', '--output', 'json'])).stdout)).toEqual(
      [],
    );
    // --service matches part of a name, in any case.
    const named = jsonLines((await argus(['where', '--service', 'PODIN', '--output', 'json'])).stdout);
    expect(named.length).toBeGreaterThan(0);
    expect(named.every((d) => d.service === 'podinfo')).toBe(true);
    expect(jsonLines((await argus(['where', '--service', 'zzz', '--output', 'json'])).stdout)).toEqual([]);
  });

  test('tail without a hub says so on stderr, retries, and exits 1, never 0 in silence', async () => {
    const tail = await argus(['tail', '--hub', '127.0.0.1:1', '--reconnect-for', '2s']);
    expect(tail.code).toBe(1);
    expect(tail.stderr).toContain('UNAVAILABLE: cannot reach the hub at 127.0.0.1:1');
    expect(tail.stderr).toContain('reconnecting in 500 ms');
    expect(tail.stderr).toMatch(/gave up after \d+ s/);
  });

  test('ids and subjects with terminal controls print inert in tables and JSON', async () => {
    // The review's event: sets the title, erases and climbs a line, conceals, reverses text.
    const id = 'term-\u001b]0;PWNED\u0007-\u001b[2K\u001b[1Aid';
    const subject = 'termsvc\u202egnp.exe\u001b[8m\u009b2J';
    const event = createEvent({
      type: 'service.deployed',
      id,
      source: '/ci/term',
      timestamp: minutesAfter(40),
      subject: { id: subject, content: { environment: { id: 'term' }, artifactId: 'pkg:oci/t@1' } },
    });
    const sent = await argus(['send', '-', '--ingest', ingest, '--token', CI_TOKEN], {
      input: JSON.stringify(event),
    });
    expect(sent.code).toBe(0);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: what must never reach the terminal.
    const controls = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
    let table = '';
    await waitFor(
      async () => {
        table = (await argus(['query', '--subject-id', subject, '--since', '2h'])).stdout;
        return table.includes('term-');
      },
      { what: 'the escaped event in argus query' },
    );
    expect(table).not.toMatch(controls);
    expect(table).toContain('term-\\u{001b}]0;PWNED\\u{0007}-\\u{001b}[2K\\u{001b}[1Aid');
    expect(table).toContain('termsvc\\u{202e}gnp.exe');

    const timeline = await argus(['timeline', subject]);
    expect(timeline.code).toBe(0);
    expect(timeline.stdout).toContain('termsvc\\u{202e}gnp.exe');
    expect(timeline.stdout).not.toMatch(controls);

    const json = await argus(['query', '--subject-id', subject, '--since', '2h', '--output', 'json']);
    expect(json.stdout).not.toMatch(controls);
    // Escaped, not altered: the JSON still carries the exact values.
    expect(jsonLines(json.stdout)[0]).toMatchObject({ id, subjectId: subject });
  });
});
