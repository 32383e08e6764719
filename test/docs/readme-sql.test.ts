import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEvent } from '@argus/cdevents';
import { DEFAULT_SQL_LIMITS, runReadOnlySql, Store, toEventRow } from '@argus/store';
import { captureLogs, clickHouseTarget, randomDatabase } from '@argus/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const statements = [...readme.matchAll(/```sql\n([\s\S]*?)```/g)]
  .flatMap((m) => (m[1] ?? '').split(';'))
  .map((s) => s.trim())
  .filter((s) => s.replace(/--.*$/gm, '').trim() !== '');

let store: Store;
beforeAll(async () => {
  store = await Store.open({
    ...clickHouseTarget(),
    database: randomDatabase('readme'),
    logger: captureLogs().logger,
  });
  const now = Date.now();
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  const events = [
    createEvent({
      type: 'service.deployed',
      id: 'd1',
      source: '/argocd/prod-eu/podinfo/podinfo',
      timestamp: at(60),
      subject: {
        id: 'podinfo',
        content: { environment: { id: 'prod-eu/podinfo' }, artifactId: 'pkg:oci/podinfo@1' },
      },
    }),
    createEvent({
      type: 'incident.detected',
      id: 'i1',
      source: '/argocd/prod-eu/podinfo/podinfo',
      timestamp: at(50),
      subject: {
        id: 'inc-1',
        content: { environment: { id: 'prod-eu/podinfo' }, service: { id: 'podinfo' } },
      },
    }),
    createEvent({
      type: 'incident.resolved',
      id: 'i2',
      source: '/argocd/prod-eu/podinfo/podinfo',
      timestamp: at(20),
      subject: {
        id: 'inc-1',
        content: { environment: { id: 'prod-eu/podinfo' }, service: { id: 'podinfo' } },
      },
    }),
  ];
  await store.insertEvents(
    events.map((event) => {
      const [, , subjectType = '', predicate = ''] = event.context.type.split('.');
      return toEventRow({
        event,
        subjectType,
        predicate,
        specVersion: '0.5.1',
        raw: JSON.stringify(event),
        tags: { instance: 'argo-eu', cluster: 'prod-eu', environment: 'production', labels: {} },
        receivedAt: new Date(),
      });
    }),
    'readme',
  );
});
afterAll(async () => {
  await store.command(`DROP DATABASE IF EXISTS ${store.database}`);
  await store.close();
});

/** What `argus sql` runs: the hub's guard and readonly = 1, rows as objects. */
const argusSql = async (sql: string): Promise<Record<string, unknown>[]> => {
  const answer = await runReadOnlySql(store, sql, DEFAULT_SQL_LIMITS);
  return answer.rows.map((row) => {
    const values = JSON.parse(row) as unknown[];
    return Object.fromEntries(answer.columns.map((c, i) => [c.name, values[i]]));
  });
};

test('the README SQL examples run as argus sql runs them (read-only) against the schema the hub creates', async () => {
  expect(statements).toHaveLength(2);
  const [running, incidents] = await Promise.all(
    statements.map((sql) => argusSql(sql.replaceAll('argus.cdevents', store.table('cdevents')))),
  );
  expect(running).toEqual([
    expect.objectContaining({ cluster: 'prod-eu', service: 'podinfo', running: 'pkg:oci/podinfo@1' }),
  ]);
  expect(incidents).toEqual([
    expect.objectContaining({ service_id: 'podinfo', incident: 'inc-1', minutes: '30' }),
  ]);
});
