import type { DeliveryEvent } from '@argus/store';
import { describe, expect, test } from 'vitest';
import { changeMergedAt, computeDora, median } from '../src/query/dora.js';

const MIN = 60_000;
let n = 0;
const ev = (kind: string, minute: number, extra: Partial<DeliveryEvent> = {}): DeliveryEvent => ({
  identity: `i${++n}`,
  id: extra.id ?? `e${n}`,
  kind,
  subjectId: 'podinfo',
  service: 'podinfo',
  cluster: 'prod',
  environment: 'prod/podinfo',
  time: minute * MIN,
  chainId: '',
  artifactId: '',
  linkedIds: [],
  ...extra,
});
const window = { since: new Date(0), until: new Date(2 * 86_400_000) };

describe('DORA definitions', () => {
  test('median of odd, even and empty samples', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBe(0);
  });

  test('lead time follows chains, links and artifacts, never a merge after the deployment', () => {
    const merge = ev('change.merged', 0, { id: 'pr-1', chainId: 'c1' });
    const lateMerge = ev('change.merged', 50, { id: 'pr-2', chainId: 'c1' });
    const artifact = ev('artifact.published', 5, { subjectId: 'pkg:oci/app@1', chainId: 'c1' });
    const linkedMerge = ev('change.merged', 10, { id: 'pr-3' });
    const upstream = [merge, lateMerge, artifact, linkedMerge];
    expect(changeMergedAt(ev('service.deployed', 30, { chainId: 'c1' }), upstream)).toBe(0);
    expect(changeMergedAt(ev('service.deployed', 30, { artifactId: 'pkg:oci/app@1' }), upstream)).toBe(0);
    expect(changeMergedAt(ev('service.deployed', 30, { linkedIds: ['pr-3'] }), upstream)).toBe(10 * MIN);
    expect(
      changeMergedAt(ev('service.deployed', 30, { artifactId: 'pkg:oci/other@1' }), upstream),
    ).toBeUndefined();
  });

  test('failures: an incident or a rollback before the next deployment of the same service and cluster', () => {
    const events = [
      ev('service.deployed', 0),
      ev('service.upgraded', 10),
      ev('incident.detected', 12, { subjectId: 'inc-a' }),
      ev('incident.resolved', 22, { subjectId: 'inc-a' }),
      ev('service.upgraded', 30),
      ev('service.rolledback', 40),
      // Another cluster's incident does not fail this cluster's deployment.
      ev('service.deployed', 0, { cluster: 'staging' }),
      ev('incident.detected', 5, { cluster: 'staging', subjectId: 'inc-b' }),
    ];
    const [all] = computeDora(events, [], window, 'none');
    expect(all).toMatchObject({
      deployments: 5,
      deploymentsPerDay: 2.5,
      failedDeployments: 3,
      changeFailureRate: 3 / 5,
      incidents: 2,
      restoredIncidents: 1,
      timeToRestoreMedianSeconds: 600,
      leadTimeSamples: 0,
    });
    const byCluster = computeDora(events, [], window, 'cluster');
    expect(byCluster.map((g) => [g.key, g.deployments, g.failedDeployments])).toEqual([
      ['prod', 4, 2],
      ['staging', 1, 1],
    ]);
  });

  test('an empty window still answers one row of zeros when not grouped', () => {
    expect(computeDora([], [], window, 'none')).toEqual([
      expect.objectContaining({ key: '', deployments: 0, changeFailureRate: 0, deploymentsPerDay: 0 }),
    ]);
    expect(computeDora([], [], window, 'service')).toEqual([]);
  });
});
