/**
 * The agent reaches Argo CD (API) and the Kubernetes API over TLS: trusting a private CA
 * (--argocd-ca), or with --insecure for labs; without either, a server with an unknown certificate
 * is refused and nothing is published.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildScenario,
  type RunningServer,
  runScenario,
  simulatorFor,
  startArgoCdApi,
  startKubeApi,
} from '@argus/argocd-sim';
import { ensureStreams, RAW_STREAM } from '@argus/bus';
import { parseOptions } from '@argus/runtime';
import {
  captureLogs,
  freePorts,
  makeTestCertificates,
  NatsServer,
  type TestCertificates,
  waitFor,
} from '@argus/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AGENT_OPTIONS, runAgent } from '../src/index.js';

const TOKEN = 'tls-token';
const dir = mkdtempSync(join(tmpdir(), 'argus-agent-tls-'));
let certs: TestCertificates;
let nats: NatsServer;
let nc: NatsConnection;
let api: RunningServer;
let kube: RunningServer;
let target: ReturnType<typeof simulatorFor>;

const scenario = buildScenario({
  instance: { name: 'argo-tls' },
  apps: [
    {
      name: 'podinfo',
      destination: { server: 'https://kubernetes.default.svc', namespace: 'podinfo' },
      source: { repoURL: 'https://github.com/stefanprodan/podinfo', path: 'kustomize' },
    },
  ],
  steps: [{ at: '0s', sync: { app: 'podinfo', revision: '6f1c2a9' } }],
});

beforeAll(async () => {
  certs = makeTestCertificates(dir);
  nats = await NatsServer.start();
  nc = await nats.connect();
  await ensureStreams(await jetstreamManager(nc));
  target = simulatorFor(scenario, new Date(Date.now() - 60_000));
  await runScenario(target, scenario, { instant: true });
  const tls = { cert: certs.cert, key: certs.key };
  api = await startArgoCdApi(target.sim, { token: TOKEN, tls });
  kube = await startKubeApi(target.sim, { token: TOKEN, tls });
});
afterAll(async () => {
  await api?.close();
  await kube?.close();
  await nc?.close();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const rawCount = async (instance: string) => {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(RAW_STREAM, { subjects_filter: `cdevents.raw.${instance}.>` });
  return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
};

const start = async (instance: string, flags: Record<string, string | boolean>) => {
  const logs = captureLogs({ level: 'info' });
  const agent = await runAgent(
    parseOptions(AGENT_OPTIONS, {
      flags: {
        instance,
        nats: nats.url,
        listen: '127.0.0.1:0',
        spoolDir: join(dir, instance),
        logLevel: 'info',
        ...flags,
      },
      env: {},
    }),
    logs.destination,
  );
  return { agent, logs };
};

describe('agent API source before Argo CD is reachable', () => {
  test('it waits, /readyz says why, and once Argo CD answers it publishes', async () => {
    const [argoPort = 0, listenPort = 0] = await freePorts(2);
    const starting = start('api-late', {
      source: 'api',
      argocdUrl: `http://127.0.0.1:${argoPort}`,
      argocdToken: TOKEN,
      listen: `127.0.0.1:${listenPort}`,
    });
    let late: RunningServer | undefined;
    try {
      await waitFor(
        async () => {
          const ready = await fetch(`http://127.0.0.1:${listenPort}/readyz`);
          const body = (await ready.json()) as { reasons?: string[] };
          return ready.status === 503 && body.reasons?.some((r) => r.includes('ECONNREFUSED'));
        },
        { what: '/readyz to say Argo CD cannot be reached' },
      );
      late = await startArgoCdApi(target.sim, { token: TOKEN, port: argoPort });
      await waitFor(async () => (await rawCount('api-late')) === 2, {
        what: 'api-late to publish its 2 events',
      });
      // Ready once the list is read: after the stream's opening burst, whose apps publish at once.
      await waitFor(async () => (await fetch(`http://127.0.0.1:${listenPort}/readyz`)).status === 200, {
        what: 'api-late to be ready',
      });
    } finally {
      // However the test went: let the start finish (Argo CD up), then stop the agent.
      late ??= await startArgoCdApi(target.sim, { token: TOKEN, port: argoPort });
      const started = await starting.catch(() => undefined);
      await started?.agent.shutdown.shutdown('test done');
      await late.close();
    }
  });
});

describe('agent sources over TLS', () => {
  test('API source trusting the CA, Kubernetes source trusting the CA, API source with --insecure: all publish', async () => {
    const runs = [
      ['tls-api-ca', { source: 'api', argocdUrl: api.url, argocdToken: TOKEN, argocdCa: certs.caFile }],
      [
        'tls-kube-ca',
        { source: 'kubernetes', kubeServer: kube.url, kubeToken: TOKEN, argocdCa: certs.caFile },
      ],
      ['tls-api-insecure', { source: 'api', argocdUrl: api.url, argocdToken: TOKEN, insecure: true }],
    ] as const;
    for (const [instance, flags] of runs) {
      const { agent } = await start(instance, flags);
      try {
        // environment.created and service.deployed
        await waitFor(async () => (await rawCount(instance)) === 2, {
          what: `${instance} to publish its 2 events`,
        });
      } finally {
        await agent.shutdown.shutdown('test done');
      }
    }
  });

  test('an unknown certificate is refused with the flag that fixes it, and nothing is published', async () => {
    const fix = /cannot verify the TLS certificate of https:\/\/127\.0\.0\.1:\d+ .*--argocd-ca/;
    // The API source asks Argo CD for its clusters at start: a certificate it cannot verify stops it there.
    for (const [instance, flags] of [
      ['tls-api-untrusted', { source: 'api', argocdUrl: api.url, argocdToken: TOKEN }],
      [
        'tls-api-other-ca',
        { source: 'api', argocdUrl: api.url, argocdToken: TOKEN, argocdCa: certs.otherCaFile },
      ],
    ] as const) {
      await expect(start(instance, flags), instance).rejects.toThrow(fix);
      expect(await rawCount(instance)).toBe(0);
    }
    // The Kubernetes source keeps retrying; /readyz says why it is not ready.
    const { agent } = await start('tls-kube-untrusted', {
      source: 'kubernetes',
      kubeServer: kube.url,
      kubeToken: TOKEN,
    });
    try {
      await waitFor(
        async () => {
          const ready = await fetch(`http://127.0.0.1:${agent.http.address.port}/readyz`);
          const body = (await ready.json()) as { reasons?: string[] };
          return ready.status === 503 && body.reasons?.some((r) => fix.test(r));
        },
        { what: '/readyz to name the certificate problem' },
      );
      expect(await rawCount('tls-kube-untrusted')).toBe(0);
    } finally {
      await agent.shutdown.shutdown('test done');
    }
  });
});
