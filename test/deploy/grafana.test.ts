import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXPECTED_CLUSTERS, EXPECTED_TYPES } from '@argus/demo';
import {
  countEvents,
  currentDeployments,
  doraFigures,
  type EventFilter,
  instanceActivity,
  Store,
  searchEvents,
  serviceTimeline,
} from '@argus/store';
import { captureLogs, clickHouseTarget, randomDatabase } from '@argus/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type DemoEvents, demoEvents } from './demo-events.js';
import { ALL, type Expansion, expandQuery, UnknownMacroError, type VariableValue } from './grafana-sql.js';

const DIR = fileURLToPath(new URL('../../deploy/grafana/', import.meta.url));
const PLUGIN = 'grafana-clickhouse-datasource';
// Grafana's own `${…}` syntax, not a template literal.
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable reference
const DS_UID = '${datasource}';
// biome-ignore lint/suspicious/noTemplateCurlyInString: the dashboard import input
const DS_INPUT = '${DS_CLICKHOUSE}';

interface Target {
  refId: string;
  datasource?: { type?: string; uid?: string };
  editorType?: string;
  format?: number;
  queryType?: string;
  rawSql?: string;
}
interface Override {
  matcher: { id: string; options: string };
  properties: { id: string; value?: unknown }[];
}
interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  fieldConfig?: { overrides?: Override[] };
  options?: { reduceOptions?: { fields?: string }; sortBy?: { displayName: string }[] };
  transformations?: { id: string; options: Record<string, unknown> }[];
}
interface Variable {
  name: string;
  type: string;
  query: string | { editorType?: string; rawSql?: string };
  current?: { value?: string | string[] };
  datasource?: { type?: string; uid?: string };
  multi?: boolean;
  includeAll?: boolean;
}
interface Dashboard {
  uid: string;
  title: string;
  description: string;
  time: { from: string; to: string };
  __inputs: { name: string; type: string; pluginId: string }[];
  templating: { list: Variable[] };
  panels: Panel[];
}

const dashboards: [string, Dashboard][] = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => [f, JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Dashboard]);
const byUid = (uid: string): Dashboard => {
  const found = dashboards.find(([, d]) => d.uid === uid)?.[1];
  if (found === undefined) throw new Error(`no dashboard ${uid} in deploy/grafana`);
  return found;
};
describe('deploy/grafana dashboards: structure', () => {
  test('there are dashboards, with unique uids, each importable with a ClickHouse data source input', () => {
    expect(dashboards.map(([f]) => f)).toEqual(
      expect.arrayContaining([
        'argus-dora.json',
        'argus-instances.json',
        'argus-live.json',
        'argus-overview.json',
        'argus-service.json',
      ]),
    );
    const uids = dashboards.map(([, d]) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const [file, d] of dashboards) {
      expect(d.__inputs, file).toEqual([
        expect.objectContaining({ name: 'DS_CLICKHOUSE', type: 'datasource', pluginId: PLUGIN }),
      ]);
      const ds = d.templating.list.find((v) => v.name === 'datasource');
      expect(ds, file).toMatchObject({
        type: 'datasource',
        query: PLUGIN,
        current: { value: DS_INPUT },
      });
      // Nothing else names a data source: every panel and query goes through the variable.
      expect(JSON.stringify(d).match(/\$\{DS_[A-Z_]+\}/g), file).toEqual([DS_INPUT]);
    }
  });

  test('every panel and every target use the datasource variable, with SQL in the plugin format', () => {
    for (const [file, d] of dashboards) {
      const ids = d.panels.map((p) => p.id);
      expect(new Set(ids).size, `${file} panel ids`).toBe(ids.length);
      for (const p of d.panels) {
        const where = `${file} / ${p.title}`;
        expect(p.datasource, where).toEqual({ type: PLUGIN, uid: DS_UID });
        expect(p.targets?.length, where).toBeGreaterThan(0);
        for (const t of p.targets ?? []) {
          expect(t.datasource, where).toEqual({ type: PLUGIN, uid: DS_UID });
          expect(t.editorType, where).toBe('sql');
          expect(t.rawSql, where).toMatch(/\$\{database\}\.cdevents/);
          // format 1 is a table, 0 a time series: the plugin's Format enum, and the query type says the same.
          expect([t.format, t.queryType], where).toContainEqual(t.queryType === 'timeseries' ? 0 : 1);
          expect(t.queryType, where).toBe(t.format === 0 ? 'timeseries' : 'table');
          if (p.type === 'timeseries') expect(t.format, where).toBe(0);
        }
      }
      for (const v of d.templating.list.filter((v) => v.type === 'query'))
        expect(v.datasource, `${file} $${v.name}`).toEqual({ type: PLUGIN, uid: DS_UID });
    }
  });

  test('the provisioning examples name the plugin, the database, and the directory of the README', () => {
    const datasources = parseYaml(
      readFileSync(join(DIR, 'provisioning/datasources/argus-clickhouse.yaml'), 'utf8'),
    ) as { apiVersion: number; datasources: { type: string; jsonData: Record<string, unknown> }[] };
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toEqual([
      expect.objectContaining({
        type: PLUGIN,
        jsonData: expect.objectContaining({ protocol: 'native', port: 9000, defaultDatabase: 'argus' }),
      }),
    ]);
    const providers = parseYaml(readFileSync(join(DIR, 'provisioning/dashboards/argus.yaml'), 'utf8')) as {
      providers: { type: string; options: { path: string } }[];
    };
    const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
    for (const p of providers.providers) {
      expect(p.type).toBe('file');
      expect(readme).toContain(`deploy/grafana:${p.options.path}`);
    }
    for (const [file, d] of dashboards) expect(readme, file).toContain(`| \`${file}\` | \`${d.uid}\` |`);
  });

  test('the instances dashboard says heartbeats are not in ClickHouse, and where they are', () => {
    const d = byUid('argus-instances');
    for (const text of [d.description, d.panels[0]?.description])
      expect(text).toMatch(
        /Heartbeats are not in ClickHouse.*argus_agents.*argus_hub_agent_heartbeat_age_seconds/,
      );
  });
});

describe('the plugin expansion the test implements', () => {
  const x: Expansion = {
    variables: new Map<string, { value: VariableValue; options: readonly string[] }>([
      ['cluster', { value: ['a', "o'b"], options: ['a', "o'b", 'c'] }],
      ['env', { value: [ALL], options: ['p', 'q'] }],
      ['database', { value: 'argus', options: [] }],
    ]),
    from: 1_700_000_000_000,
    to: 1_700_003_600_500,
    intervalMs: 60_000,
  };
  test('conditionalAll, variables and backend macros expand as the plugin does', () => {
    expect(
      expandQuery(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax
        'SELECT $__timeInterval(ts) FROM ${database}.t WHERE $__timeFilter(ts) AND $__conditionalAll(c IN (${cluster:singlequote}), $cluster) AND $__conditionalAll(e IN ($env), $env) AND x IN ($env) AND y < $__toTime AND $__interval_s > 0',
        x,
      ),
    ).toBe(
      "SELECT toStartOfInterval(toDateTime(ts), INTERVAL 60 second) FROM argus.t WHERE ts >= toDateTime(1700000000) AND ts <= toDateTime(1700003600) AND c IN ('a','o\\'b') AND 1=1 AND x IN ('p','q') AND y < toDateTime(1700003600) AND 60 > 0",
    );
  });
  test('an unknown macro, variable or format fails', () => {
    for (const sql of [
      '$__timeGroup(ts, 1h)',
      '$__unixEpochFilter(ts)',
      '$nope',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax
      '${cluster:csv}',
      '$__timeFilter()',
    ])
      expect(() => expandQuery(sql, x), sql).toThrow(UnknownMacroError);
  });
});

// ---- every query against a real store holding the demo's events ----------------------------

type Row = Record<string, unknown>;
interface Result {
  readonly columns: string[];
  readonly rows: Row[];
}

let store: Store;
let demo: DemoEvents;
let now: number;

beforeAll(async () => {
  store = await Store.open({
    ...clickHouseTarget(),
    database: randomDatabase(),
    logger: captureLogs().logger,
  });
  now = Date.now();
  demo = demoEvents(new Date(now));
  await store.insertEvents(
    demo.events.map((e) => e.row),
    'grafana-demo',
  );
});
afterAll(async () => {
  await store?.command(`DROP DATABASE IF EXISTS ${store.database}`);
  await store?.close();
});

const run = async (sql: string): Promise<Result> => {
  const result = await store.client.query({ query: sql, format: 'JSONCompact' });
  const body = (await result.json()) as unknown as { meta: { name: string }[]; data: unknown[][] };
  const columns = body.meta.map((m) => m.name);
  return { columns, rows: body.data.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]]))) };
};

/** `now-7d`, `now-1h`, `now` as Grafana's time picker reads them, against the test's now. */
const relative = (text: string, to: number): number => {
  if (text === 'now') return to;
  const m = /^now-(\d+)([mhdw])$/.exec(text);
  if (m === null) throw new Error(`time ${text} is not understood here`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'm' | 'h' | 'd' | 'w'];
  return to - Number(m[1]) * unit;
};

/** What a user picks: All everywhere, or one environment, cluster, instance and service. */
type Choice = Readonly<Record<string, VariableValue>>;
const ALL_CHOICE: Choice = {};
const NARROW: Choice = {
  environment: ['production'],
  cluster: ['prod-eu'],
  instance: ['argo-hub'],
  service: ['podinfo'],
};

/**
 * The dashboard's variables resolved as Grafana does on load: each query variable's query run
 * (in order: later ones use earlier ones) for its options, its value the choice, else All, else
 * the first option.
 */
const resolveVariables = async (
  d: Dashboard,
  choice: Choice,
  range: { from: number; to: number },
): Promise<{ expansion: Expansion; options: Map<string, string[]> }> => {
  const variables = new Map<string, { value: VariableValue; options: readonly string[] }>();
  const options = new Map<string, string[]>();
  const expansion: Expansion = { variables, ...range, intervalMs: 60_000 };
  for (const v of d.templating.list) {
    if (v.type === 'datasource') continue;
    if (v.type === 'textbox') {
      // The hub's database: here the test store's.
      expect(v.name).toBe('database');
      variables.set(v.name, { value: store.database, options: [] });
      continue;
    }
    expect(v.type, `$${v.name}`).toBe('query');
    const sql = typeof v.query === 'string' ? v.query : (v.query.rawSql ?? '');
    const result = await run(expandQuery(sql, expansion));
    expect(result.columns, `$${v.name} returns one column`).toHaveLength(1);
    const values = result.rows.map((r) => String(r[result.columns[0]!]));
    options.set(v.name, values);
    const chosen = choice[v.name];
    const single = typeof chosen === 'string' ? chosen : chosen?.[0];
    const value: VariableValue =
      v.multi === true
        ? (chosen ?? (v.includeAll === true ? [ALL] : values.slice(0, 1)))
        : (single ?? (v.includeAll === true ? ALL : (values[0] ?? '')));
    variables.set(v.name, { value, options: values });
  }
  return { expansion, options };
};

/** The column names a panel refers to: overrides, transformations, stat fields, sorting. */
const referencedColumns = (p: Panel): string[] => {
  const names: string[] = [];
  for (const o of p.fieldConfig?.overrides ?? [])
    if (o.matcher.id === 'byName') names.push(o.matcher.options);
  for (const t of p.transformations ?? []) {
    if (t.id === 'organize')
      for (const key of ['excludeByName', 'renameByName', 'indexByName'])
        names.push(...Object.keys((t.options[key] as Record<string, unknown> | undefined) ?? {}));
    else if (t.id === 'partitionByValues') names.push(...(t.options.fields as string[]));
    else throw new Error(`transformation ${t.id} of "${p.title}" is not checked here`);
  }
  const fields = p.options?.reduceOptions?.fields;
  if (fields !== undefined && fields !== '') {
    const m = /^\/\^(\w+)\$\/$/.exec(fields);
    if (m === null) throw new Error(`stat fields ${fields} of "${p.title}" is not /^name$/`);
    names.push(m[1]!);
  }
  for (const s of p.options?.sortBy ?? []) names.push(s.displayName);
  return names;
};

/** Runs every panel of a dashboard; checks each runs and has the columns the panel names. */
const runDashboard = async (
  uid: string,
  choice: Choice,
  range?: { from: number; to: number },
): Promise<{ results: Map<string, Result>; options: Map<string, string[]>; expansion: Expansion }> => {
  const d = byUid(uid);
  const to = range?.to ?? Math.ceil(now / 1000) * 1000 + 1000;
  const window = range ?? { from: relative(d.time.from, to), to };
  const { expansion, options } = await resolveVariables(d, choice, window);
  const results = new Map<string, Result>();
  for (const p of d.panels) {
    for (const t of p.targets ?? []) {
      const result = await run(expandQuery(t.rawSql ?? '', expansion));
      for (const name of referencedColumns(p))
        expect(result.columns, `"${p.title}" refers to ${name}`).toContain(name);
      if (t.format === 0) expect(result.columns, `"${p.title}" is a time series`).toContain('time');
      results.set(p.title, result);
    }
  }
  return { results, options, expansion };
};

const get = (results: Map<string, Result>, title: string): Result => {
  const r = results.get(title);
  if (r === undefined) throw new Error(`panel "${title}" has no result`);
  return r;
};

const num = (v: unknown): number => Number(v);
const version = (artifact: string): string =>
  artifact === '' ? '(no artifact)' : (artifact.split('@').at(-1)?.split('?')[0] ?? artifact);
const chTime = (iso: string): string => iso.replace('T', ' ').replace('Z', '');

describe('deploy/grafana dashboards on the demo data', () => {
  test('the data is the demo: the event counts and podinfo clusters the demo checks', () => {
    const counts: Record<string, number> = {};
    for (const { row } of demo.events) {
      const k = `${row.subject_type}.${row.predicate}`;
      counts[k] = (counts[k] ?? 0) + 1;
    }
    for (const [type, n] of Object.entries(EXPECTED_TYPES)) expect(counts[type], type).toBe(n);
    expect(
      [
        ...new Set(demo.events.filter((e) => e.row.subject_id === 'podinfo').map((e) => e.row.cluster)),
      ].sort(),
    ).toEqual(EXPECTED_CLUSTERS);
  });

  test('variables list what the demo has', async () => {
    const { options } = await runDashboard('argus-overview', ALL_CHOICE);
    const rows = demo.events.map((e) => e.row);
    const distinct = (f: (r: (typeof rows)[number]) => string) =>
      [...new Set(rows.map(f).filter((v) => v !== ''))].sort();
    expect(options.get('environment')).toEqual(distinct((r) => r.environment));
    expect(options.get('cluster')).toEqual(distinct((r) => r.cluster));
    expect(options.get('instance')).toEqual([...new Set(rows.map((r) => r.instance))].sort());
    expect(options.get('service')).toEqual(['guestbook', 'podinfo']);
    // Narrowed: the clusters of production only, the instances of prod-eu only.
    const narrowed = await runDashboard('argus-overview', {
      environment: ['production'],
      cluster: ['prod-eu'],
    });
    expect(narrowed.options.get('cluster')).toEqual(['edge-1', 'prod-ap', 'prod-eu', 'prod-us']);
    expect(narrowed.options.get('instance')).toEqual(['argo-hub']);
  });

  test('what runs where: one row per demo service and cluster, as the store answers it', async () => {
    for (const [choice, filter] of [
      [ALL_CHOICE, {}],
      [NARROW, { environment: 'production', cluster: 'prod-eu', instance: 'argo-hub' }],
    ] as const) {
      const { results } = await runDashboard('argus-overview', choice);
      const table = get(results, 'What runs where');
      const expected = (await currentDeployments(store, filter, 1000)).filter(
        (d) => choice.service === undefined || choice.service.includes(d.service),
      );
      expect(expected.length).toBeGreaterThan(0);
      expect(
        table.rows.map((r) => [r.service, r.cluster, r.instance, r.kind, r.artifact, num(r.open_incidents)]),
      ).toEqual(
        expected.map((d) => [d.service, d.cluster, d.instance, d.kind, d.artifactId, d.openIncidents]),
      );
      expect(table.rows.map((r) => r.version)).toEqual(expected.map((d) => version(d.artifactId)));
    }
    const all = get((await runDashboard('argus-overview', ALL_CHOICE)).results, 'What runs where');
    // podinfo in the demo's seven clusters, guestbook in prod-us.
    expect(all.rows.map((r) => `${r.service}@${r.cluster}`)).toEqual([
      'guestbook@prod-us',
      ...EXPECTED_CLUSTERS.map((c) => `podinfo@${c}`),
    ]);
  });

  test('version skew: none once the demo has rolled 6.9.2 out everywhere; podinfo mid-rollout of 6.9.1', async () => {
    const now = get((await runDashboard('argus-overview', ALL_CHOICE)).results, 'Version skew');
    const running = (await currentDeployments(store, {}, 1000)).filter((d) => d.kind !== 'service.removed');
    const skewed = [...new Set(running.map((d) => d.service))].filter(
      (s) => new Set(running.filter((d) => d.service === s).map((d) => d.artifactId)).size > 1,
    );
    expect(now.rows.map((r) => r.service)).toEqual(
      running.filter((d) => skewed.includes(d.service)).map((d) => d.service),
    );

    // 200 minutes into the scenario: 6.9.1 in sandbox, dev and staging, prod-eu rolled back.
    const at = demo.start.getTime() + 200 * 60_000;
    const asOf = new Map<string, { artifact: string; kind: string }>();
    for (const { row } of demo.events)
      if (
        row.subject_type === 'service' &&
        row.timestamp <= chTime(new Date(Math.floor(at / 1000) * 1000).toISOString())
      )
        asOf.set(`${row.subject_id}@${row.cluster}`, { artifact: row.artifact_id, kind: row.predicate });
    const podinfo = [...asOf]
      .filter(([k]) => k.startsWith('podinfo@'))
      .sort(([a], [b]) => a.localeCompare(b));
    expect(new Set(podinfo.map(([, v]) => v.artifact)).size).toBeGreaterThan(1);
    const then = get(
      (await runDashboard('argus-overview', ALL_CHOICE, { from: at - 7 * 86_400_000, to: at })).results,
      'Version skew',
    );
    expect(then.rows.map((r) => [`${r.service}@${r.cluster}`, r.version, num(r.skewed)])).toEqual(
      podinfo.map(([k, v]) => [k, version(v.artifact), version(v.artifact) === '6.9.0' ? 0 : 1]),
    );
    expect(new Set(then.rows.map((r) => r.most_common_version))).toEqual(new Set(['6.9.0']));
  });

  test("service timeline: each service's deployments and incidents, as the store's timeline", async () => {
    const { options, expansion } = await runDashboard('argus-service', ALL_CHOICE);
    const services = options.get('service') ?? [];
    expect(services).toEqual(['guestbook', 'podinfo']);
    for (const service of services) {
      const { results } = await runDashboard('argus-service', { service });
      const window = { since: new Date(expansion.from), until: new Date(expansion.to) };
      const expected = (await serviceTimeline(store, service, window, 500)).reverse();
      expect(expected.length, service).toBeGreaterThan(0);
      const table = get(results, 'Timeline');
      expect(table.rows.map((r) => r.event_id)).toEqual(expected.map((e) => e.id));
      const versions = get(results, 'Version by cluster');
      const deployments = expected.filter((e) => e.subject_type === 'service');
      expect(versions.rows.map((r) => [r.cluster, r.version])).toEqual(
        deployments
          .reverse()
          .map((e) => [e.cluster, e.predicate === 'removed' ? 'removed' : version(e.artifact_id)]),
      );
    }
    // podinfo's incident in prod-eu shows its description.
    const podinfo = get((await runDashboard('argus-service', { service: 'podinfo' })).results, 'Timeline');
    expect(podinfo.rows.find((r) => r.kind === 'incident.detected')).toMatchObject({
      cluster: 'prod-eu',
      detail: expect.stringMatching(/^health degraded/),
    });
  });

  test('recent events and their rate: what the store finds in the last hour', async () => {
    for (const [choice, filter] of [
      [ALL_CHOICE, {}],
      [NARROW, { environment: 'production', cluster: 'prod-eu', instance: 'argo-hub', service: 'podinfo' }],
    ] as const) {
      const { results, expansion } = await runDashboard('argus-live', choice);
      const window: EventFilter = {
        ...filter,
        since: new Date(expansion.from),
        until: new Date(expansion.to),
      };
      const expected = await searchEvents(store, window, 500);
      expect(expected.length, JSON.stringify(choice)).toBeGreaterThan(0);
      expect(get(results, 'Recent events').rows.map((r) => r.event_id)).toEqual(expected.map((e) => e.id));
      const rate = get(results, 'Events by type');
      expect(rate.rows.reduce((sum, r) => sum + num(r.events), 0)).toBe(
        (await countEvents(store, window)).events,
      );
    }
  });

  /** The hub's GetDoraMetrics for a window and filter: the store's one DORA query, not bucketed. */
  const hubDora = async (filter: {
    since: Date;
    until: Date;
    service?: string;
    cluster?: string;
    environment?: string;
  }) => {
    const [figures] = await doraFigures(store, { ...filter, grouping: 'none' });
    if (figures === undefined) throw new Error('doraFigures gave no figures');
    return figures;
  };

  test("DORA: the four metrics equal the hub's, over all and over prod-eu", async () => {
    for (const [choice, filter] of [
      [ALL_CHOICE, {}],
      [NARROW, { environment: 'production', cluster: 'prod-eu', service: 'podinfo' }],
    ] as const) {
      const { results, expansion } = await runDashboard('argus-dora', choice);
      const hub = await hubDora({
        ...filter,
        since: new Date(expansion.from),
        until: new Date(expansion.to),
      });
      // The demo has deployments, traced merges, a failed deployment and a restored incident.
      expect(hub.deployments).toBeGreaterThan(0);
      expect(hub.leadTimeSamples).toBeGreaterThan(0);
      expect(hub.failedDeployments).toBeGreaterThan(0);
      expect(hub.restoredIncidents).toBeGreaterThan(0);
      const [frequency] = get(results, 'Deployment frequency').rows;
      expect(num(frequency?.deployments)).toBe(hub.deployments);
      expect(num(frequency?.deployments_per_day)).toBeCloseTo(hub.deploymentsPerDay, 6);
      const [lead] = get(results, 'Lead time for changes').rows;
      expect(num(lead?.traced_deployments)).toBe(hub.leadTimeSamples);
      expect(num(lead?.lead_time_median_s)).toBeCloseTo(hub.leadTimeMedianSeconds, 3);
      const [failure] = get(results, 'Change failure rate').rows;
      expect(num(failure?.failed_deployments)).toBe(hub.failedDeployments);
      expect(num(failure?.change_failure_rate)).toBeCloseTo(hub.changeFailureRate, 6);
      const [restore] = get(results, 'Time to restore').rows;
      expect(num(restore?.incidents)).toBe(hub.incidents);
      expect(num(restore?.restored_incidents)).toBe(hub.restoredIncidents);
      expect(num(restore?.time_to_restore_median_s)).toBeCloseTo(hub.timeToRestoreMedianSeconds, 3);
      // The weekly series cover the same deployments, and name their weeks by Monday.
      const weekly = get(results, 'Deployments per week');
      expect(weekly.rows.reduce((s, r) => s + num(r.deployments), 0)).toBe(hub.deployments);
      for (const title of [
        'Lead time for changes per week (median)',
        'Change failure rate per week',
        'Time to restore per week (median)',
      ])
        expect(get(results, title).rows.length, title).toBeGreaterThan(0);
      for (const r of weekly.rows)
        expect(new Date(`${String(r.time).replace(' ', 'T')}Z`).getUTCDay()).toBe(1);
    }
  });

  test("instances: every demo instance with the store's activity figures", async () => {
    const { results, expansion } = await runDashboard('argus-instances', ALL_CHOICE);
    const expected = await instanceActivity(store, new Date(expansion.to - 3_600_000));
    const table = get(results, 'Reporting instances');
    expect(
      table.rows.map((r) => [r.instance, r.clusters, num(r.events_total), num(r.events_last_hour)]),
    ).toEqual(expected.map((a) => [a.instance, a.clusters.join(', '), a.eventsTotal, a.eventsSince]));
    // Every demo agent and the CI producer; the principal and its spoke raced for edge-1's events.
    const reporting = new Set(demo.events.map((e) => e.row.instance));
    expect(table.rows.map((r) => r.instance)).toEqual([...reporting].sort());
    expect(reporting.has('ci')).toBe(true);
    const one = await runDashboard('argus-instances', { instance: ['argo-hub'] });
    expect(get(one.results, 'Reporting instances').rows.map((r) => r.instance)).toEqual(['argo-hub']);
  });
});
