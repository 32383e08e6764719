/**
 * TLS on every endpoint: the hub and an agent reach a nats-server that requires TLS (trusting a
 * private CA), and serve their HTTP listeners and the gRPC API over TLS; clients that trust the CA
 * get answers, clients that do not are refused.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_OPTIONS, runAgent } from '@argus/agent';
import { createEvent } from '@argus/cdevents';
import { HUB_OPTIONS, type RunningHub, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import {
  captureLogs,
  makeTestCertificates,
  NatsServer,
  runArgus,
  type TestCertificates,
  waitFor,
} from '@argus/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'argus-tls-'));
let certs: TestCertificates;

const httpsGet = (url: string, ca: Buffer): Promise<number> =>
  new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });

let nats: NatsServer;
let hub: RunningHub;
let agent: Awaited<ReturnType<typeof runAgent>>;
const logs = captureLogs({ level: 'info' });

beforeAll(async () => {
  certs = makeTestCertificates(dir);
  nats = await NatsServer.start({
    config: `tls {\n  cert_file: "${certs.certFile}"\n  key_file: "${certs.keyFile}"\n}`,
  });
  const tlsFlags = { natsCa: certs.caFile, tlsCert: certs.certFile, tlsKey: certs.keyFile };
  hub = await runHub(
    parseOptions(HUB_OPTIONS, {
      flags: {
        nats: nats.url,
        dataDir: join(dir, 'hub'),
        httpListen: '127.0.0.1:0',
        grpcListen: '127.0.0.1:0',
        ingestTokens: 'ci=ci-token',
        batchMaxWait: '20ms',
        ...tlsFlags,
      },
      env: {},
    }),
    logs.destination,
  );
  agent = await runAgent(
    parseOptions(AGENT_OPTIONS, {
      flags: {
        instance: 'argo-tls',
        source: 'webhook',
        cluster: 'prod-eu',
        nats: nats.url,
        listen: '127.0.0.1:0',
        spoolDir: join(dir, 'spool'),
        ...tlsFlags,
      },
      env: {},
    }),
    logs.destination,
  );
});

afterAll(async () => {
  await agent?.shutdown.shutdown('test done');
  await hub?.shutdown.shutdown('test done');
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS everywhere', () => {
  test('a NATS connection without the CA is refused; with it, the hub and the agent work', async () => {
    await expect(
      runHub(
        parseOptions(HUB_OPTIONS, {
          flags: {
            nats: nats.url,
            dataDir: join(dir, 'refused'),
            httpListen: '127.0.0.1:0',
            grpcListen: '127.0.0.1:0',
          },
          env: {},
        }),
        captureLogs().destination,
      ),
    ).rejects.toThrow();
    const ca = certs.ca;
    expect(await httpsGet(`https://127.0.0.1:${hub.http.address.port}/readyz`, ca)).toBe(200);
    expect(await httpsGet(`https://127.0.0.1:${agent.http.address.port}/readyz`, ca)).toBe(200);
    await expect(
      httpsGet(`https://127.0.0.1:${hub.http.address.port}/healthz`, readFileSync(certs.otherCaFile)),
    ).rejects.toThrow();
  });

  test('events go in over HTTPS (agent webhook, hub ingest) and come out over gRPC with TLS', async () => {
    const event = createEvent({
      type: 'service.deployed',
      id: 'tls-1',
      source: '/argocd/prod-eu/podinfo/podinfo',
      subject: {
        id: 'podinfo',
        content: { environment: { id: 'prod-eu/podinfo' }, artifactId: 'pkg:oci/podinfo@1' },
      },
    });
    const posted = await new Promise<number>((resolve, reject) => {
      const req = request(
        `https://127.0.0.1:${agent.http.address.port}/api/v1/notifications`,
        { method: 'POST', ca: certs.ca, headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(event));
    });
    expect(posted).toBe(202);

    const sent = await runArgus([
      'send',
      '--ingest',
      `https://127.0.0.1:${hub.http.address.port}`,
      '--tls-ca',
      certs.caFile,
      '--token',
      'ci-token',
      '--type',
      'change.merged',
      '--id',
      'tls-2',
      '--source',
      '/github/acme/podinfo',
      '--subject-id',
      'acme/podinfo/pull/1',
    ]);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    await waitFor(() => hub.hub.stats().stored >= 2, { what: 'both events stored' });

    const hubAddress = `127.0.0.1:${hub.grpc.address.port}`;
    const query = await runArgus([
      'query',
      '--hub',
      hubAddress,
      '--tls-ca',
      certs.caFile,
      '--output',
      'json',
    ]);
    expect(query.code).toBe(0);
    expect(
      query.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id)
        .sort(),
    ).toEqual(['tls-1', 'tls-2']);

    const plaintext = await runArgus(['stats', '--hub', hubAddress, '--timeout', '3s']);
    expect(plaintext.code).toBe(1);
    expect(plaintext.stderr).toMatch(/UNAVAILABLE|DEADLINE_EXCEEDED/);
    const untrusted = await runArgus([
      'stats',
      '--hub',
      hubAddress,
      '--tls-ca',
      certs.otherCaFile,
      '--timeout',
      '3s',
    ]);
    expect(untrusted.code).toBe(1);
  });
});
