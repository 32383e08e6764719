/**
 * TLS on every endpoint: the hub and an agent reach a nats-server that requires TLS (trusting a
 * private CA), and serve their HTTP listeners and the gRPC API over TLS; clients that trust the CA
 * get answers, clients that do not are refused.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_OPTIONS, runAgent } from '@argus/agent';
import { createEvent } from '@argus/cdevents';
import { HUB_OPTIONS, type RunningHub, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import { captureLogs, NatsServer, runArgus, waitFor } from '@argus/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'argus-tls-'));
const file = (name: string) => join(dir, name);

/** A private CA and a certificate for 127.0.0.1/localhost signed by it (EC P-256: fast to make). */
const makeCertificates = () => {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=argus-test-ca',
  );
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  );
  // A CA nobody configured: trusting it must not be enough.
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'other.key',
    '-out',
    'other.pem',
    '-days',
    '2',
    '-subj',
    '/CN=other-ca',
  );
};

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
  makeCertificates();
  nats = await NatsServer.start({
    config: `tls {\n  cert_file: "${file('server.pem')}"\n  key_file: "${file('server.key')}"\n}`,
  });
  const tlsFlags = { natsCa: file('ca.pem'), tlsCert: file('server.pem'), tlsKey: file('server.key') };
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
    const ca = readFileSync(file('ca.pem'));
    expect(await httpsGet(`https://127.0.0.1:${hub.http.address.port}/readyz`, ca)).toBe(200);
    expect(await httpsGet(`https://127.0.0.1:${agent.http.address.port}/readyz`, ca)).toBe(200);
    await expect(
      httpsGet(`https://127.0.0.1:${hub.http.address.port}/healthz`, readFileSync(file('other.pem'))),
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
        { method: 'POST', ca: readFileSync(file('ca.pem')), headers: { 'content-type': 'application/json' } },
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
      file('ca.pem'),
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
      file('ca.pem'),
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
      file('other.pem'),
      '--timeout',
      '3s',
    ]);
    expect(untrusted.code).toBe(1);
  });
});
