import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishRaw } from '@argus/bus';
import { createEvent } from '@argus/cdevents';
import { HUB_OPTIONS, type RunningHub, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import { captureLogs, NatsServer, runArgus, waitFor } from '@argus/testkit';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const API_TOKEN = 'api-secret';
const ADMIN_TOKEN = 'admin-secret';

let server: NatsServer;
let running: RunningHub;
let dir: string;
let hub: string;
const logs = captureLogs();

const argus = (args: string[], token: string | null = ADMIN_TOKEN, input?: string) =>
  runArgus(args, {
    env: { ARGUS_HUB: hub, ...(token === null ? {} : { ARGUS_QUERY_TOKEN: token }) },
    ...(input === undefined ? {} : { input }),
  });

/** `GET /api/v1/query/sql?q=…` of the hub's HTTP listener. */
const sqlUrl = (q: string, maxRows?: string): string =>
  `http://127.0.0.1:${running.http.address.port}/api/v1/query/sql?${new URLSearchParams({ q, ...(maxRows === undefined ? {} : { maxRows }) })}`;

const COUNT_BY_CLUSTER =
  'SELECT cluster, count() AS n FROM (SELECT * FROM argus.cdevents LIMIT 1 BY identity) GROUP BY cluster ORDER BY cluster';

beforeAll(async () => {
  server = await NatsServer.start();
  dir = mkdtempSync(join(tmpdir(), 'argus-cli-sql-'));
  running = await runHub(
    parseOptions(HUB_OPTIONS, {
      flags: {
        nats: server.url,
        dataDir: join(dir, 'data'),
        httpListen: '127.0.0.1:0',
        grpcListen: '127.0.0.1:0',
        apiTokens: `ops=${API_TOKEN}`,
        adminTokens: `oncall=${ADMIN_TOKEN}`,
        batchMaxWait: '20ms',
        sqlMaxRows: '50',
        sqlMaxTime: '1s',
      },
      env: {},
    }),
    logs.destination,
  );
  hub = `127.0.0.1:${running.grpc.address.port}`;
  const js = jetstream(running.nc);
  for (const [i, cluster] of ['prod-eu', 'prod-eu', 'prod-us'].entries())
    await publishRaw(
      js,
      createEvent({
        type: 'service.deployed',
        id: `d-${i}`,
        source: `/argocd/${cluster}/podinfo`,
        subject: {
          id: 'podinfo',
          content: { environment: { id: `${cluster}/podinfo` }, artifactId: `pkg:oci/podinfo@${i}` },
        },
      }),
      { instance: 'argo', cluster },
    );
  await waitFor(async () => running.hub.stats().stored >= 3, { what: 'three events stored' });
}, 120_000);

afterAll(async () => {
  await running?.shutdown.shutdown('test done');
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// Each test spawns argus a few times (2-4 s each on the shared two cores).
describe('argus sql against a real hub, nats-server and embedded ClickHouse', { timeout: 90_000 }, () => {
  test('a SELECT over the stored events, as a table, JSON and TSV, and from stdin', async () => {
    const text = await argus(['sql', COUNT_BY_CLUSTER]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.split('\n').map((l) => l.split(/\s+/))).toEqual([
      ['cluster', 'n'],
      ['prod-eu', '2'],
      ['prod-us', '1'],
      [''],
    ]);
    expect(text.stderr).toBe('2 rows\n');
    const json = await argus(['sql', COUNT_BY_CLUSTER, '--output', 'json']);
    expect(
      json.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      // UInt64 comes as a string: exact beyond 2^53.
      { cluster: 'prod-eu', n: '2' },
      { cluster: 'prod-us', n: '1' },
    ]);
    const tsv = await argus(
      ['sql', '-', '--output', 'tsv'],
      ADMIN_TOKEN,
      `-- from a file\n${COUNT_BY_CLUSTER};\n`,
    );
    expect(tsv.stdout).toBe('cluster\tn\nprod-eu\t2\nprod-us\t1\n');
    expect(logs.find((l) => l.msg === 'SQL answered')).toMatchObject({ rows: 2, truncated: false });
  });

  test('needs an admin token; a query token is PERMISSION_DENIED, none UNAUTHENTICATED', async () => {
    const denied = await argus(['sql', 'SELECT 1'], API_TOKEN);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(
      'PERMISSION_DENIED: ops is a query token: running SQL needs an admin token',
    );
    const anonymous = await argus(['sql', 'SELECT 1'], null);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain('UNAUTHENTICATED');
  });

  test('writes are refused, before ClickHouse or by its readonly, and nothing changed', async () => {
    for (const [query, says] of [
      ['DROP TABLE argus.cdevents', 'only statements that read may run'],
      ['INSERT INTO argus.cdevents SELECT * FROM argus.cdevents', 'only statements that read may run'],
      ['ALTER TABLE argus.cdevents DELETE WHERE 1', 'only statements that read may run'],
      ['CREATE TABLE argus.x (a UInt8) ENGINE = Memory', 'only statements that read may run'],
      ['/* SELECT */ DROP TABLE argus.cdevents', 'only statements that read may run'],
      ['SELECT 1; DROP TABLE argus.cdevents', 'give one statement'],
      ["SELECT 1 /* ';' */; DROP DATABASE argus", 'give one statement'],
      [
        "SELECT * FROM (SELECT * FROM file('/etc/hostname', 'LineAsString') SETTINGS readonly = 0)",
        'the query names SETTINGS',
      ],
      ["SELECT 1 INTO OUTFILE 'x.txt'", 'INTO OUTFILE is refused'],
      // Past the guard, ClickHouse's readonly = 1 refuses it.
      ["SELECT * FROM file('/etc/hostname', 'LineAsString')", 'ClickHouse refused the query'],
    ] as const) {
      // The JSON API runs the same handler as the CLI's gRPC call, without a process per statement.
      const refused = await fetch(sqlUrl(query), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const body = (await refused.json()) as { code: string; error: string };
      expect([refused.status, body.code], query).toEqual([400, 'INVALID_ARGUMENT']);
      expect(body.error, query).toContain(says);
    }
    // And through the CLI: a refusal before ClickHouse and one by its readonly.
    for (const [query, says] of [
      ['DROP TABLE argus.cdevents', 'INVALID_ARGUMENT: only statements that read may run'],
      [
        "SELECT * FROM url('http://127.0.0.1:9/', 'LineAsString')",
        'INVALID_ARGUMENT: ClickHouse refused the query',
      ],
    ]) {
      const refused = await argus(['sql', query ?? '']);
      expect(refused.code, query).toBe(1);
      expect(refused.stderr, query).toContain(says);
    }
    const after = await argus(['sql', 'SELECT count() FROM argus.cdevents', '--output', 'tsv']);
    expect(after.stdout.split('\n')[1]).toBe('3');
  });

  test('the row limit cuts and says so; the time limit stops a long query', async () => {
    const cut = await argus(['sql', 'SELECT number FROM numbers(1000)', '--output', 'tsv']);
    expect(cut.code).toBe(0);
    expect(cut.stdout.trim().split('\n')).toHaveLength(1 + 50);
    expect(cut.stderr).toContain('only the first 50 rows: more matched');
    const fewer = await argus([
      'sql',
      'SELECT number FROM numbers(1000)',
      '--max-rows',
      '5',
      '--output',
      'json',
    ]);
    expect(fewer.stdout.trim().split('\n')).toHaveLength(5);
    const over = await argus(['sql', 'SELECT 1', '--max-rows', '51']);
    expect(over.code).toBe(1);
    expect(over.stderr).toContain('INVALID_ARGUMENT: max_rows must be at most 50');

    const started = Date.now();
    const slow = await argus(['sql', 'SELECT sleep(2)']);
    expect(slow.code).toBe(1);
    expect(slow.stderr).toContain('RESOURCE_EXHAUSTED');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('the JSON API answers GET sql?q= the same way, admin only', async () => {
    const url = (q: string) => sqlUrl(q, '1');
    const ok = await fetch(url(COUNT_BY_CLUSTER), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({
      columns: [
        { name: 'cluster', type: 'LowCardinality(String)' },
        { name: 'n', type: 'UInt64' },
      ],
      rows: ['["prod-eu", "2"]'],
      truncated: true,
    });
    const denied = await fetch(url('SELECT 1'), { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(denied.status).toBe(403);
    const write = await fetch(url('DROP TABLE argus.cdevents'), {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(write.status).toBe(400);
  });

  test('usage errors are one line and a hint', async () => {
    const none = await argus(['sql']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /^argus sql: sql takes one query, in quotes .*\nRun "argus sql --help" for its options\.\n$/,
    );
    const split = await argus(['sql', 'SELECT', '1']);
    expect(split.code).toBe(2);
    expect(split.stderr).toContain('got 2 arguments');
    const help = await argus(['sql', '--help']);
    expect(help.stdout).toContain('--max-rows');
  });
});
