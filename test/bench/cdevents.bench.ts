import { createEvent, fromNats, parse, serialize, toNatsBinary } from '@argus/cdevents';
import { type BenchResult, compareRates } from './harness.js';

/** A realistic service.deployed from an Argo CD app, with the agent's customData (~1 KB). */
const event = createEvent({
  type: 'service.deployed',
  id: 'c1a3f6de-5a0b-5e57-9d8e-3b9e8f6a2c71',
  source: '/argocd/prod-eu/podinfo/podinfo',
  timestamp: '2026-11-24T10:15:03Z',
  subject: {
    id: 'podinfo',
    source: '/argocd/prod-eu/podinfo/podinfo',
    content: {
      environment: { id: 'prod-eu/podinfo', source: '/argocd/prod-eu' },
      artifactId: 'pkg:helm/podinfo@6.9.2?repository_url=ghcr.io%2Fstefanprodan%2Fcharts',
    },
  },
  customData: {
    argocd: {
      app: 'podinfo',
      appNamespace: 'argocd',
      uid: '648b3973-e90b-4496-84c0-febef8536eec',
      project: 'demo-cluster',
      syncStatus: 'Synced',
      healthStatus: 'Healthy',
      destination: { server: 'https://kubernetes.default.svc', name: '', namespace: 'podinfo' },
      cluster: 'prod-eu',
      historyId: 40,
      revision: '6.9.2',
      revisions: ['6.9.2'],
      deployStartedAt: '2026-11-24T10:15:00Z',
      initiatedBy: { automated: true },
    },
  },
  customDataContentType: 'application/json',
});

export const run = async (): Promise<BenchResult> => {
  const text = serialize(event);
  const bytes = new TextEncoder().encode(text);
  const nats = toNatsBinary(event);
  const rates = compareRates({
    'JSON.parse (baseline)': () => JSON.parse(text),
    'parse(text)': () => parse(text),
    'parse(bytes)': () => parse(bytes),
    createEvent: () =>
      createEvent({
        type: 'service.deployed',
        source: event.context.source,
        subject: { id: 'podinfo', content: { environment: { id: 'prod' }, artifactId: 'pkg:oci/podinfo' } },
      }),
    serialize: () => serialize(event),
    'toNatsBinary+fromNats': () => fromNats(toNatsBinary(event)),
    'fromNats (binary mode)': () => fromNats(nats),
  });
  const baseline = rates['JSON.parse (baseline)'] ?? 1;
  return {
    benchmark: `cdevents parse+validate of a ${bytes.byteLength}-byte service.deployed`,
    baseline: 'bare JSON.parse of the same text',
    measurements: Object.entries(rates).map(([name, opsPerSec]) => ({
      name,
      opsPerSec,
      ratio: opsPerSec / baseline,
    })),
  };
};
