/**
 * The Argo CD API stream behind a proxy with an idle timeout (an ingress, a load balancer): the agent
 * asks for Server-Sent Events, for which Argo CD writes a keepalive every 15 s (argoproj/pkg
 * grpc/http/forwarders.go; the simulator plays it faster here), so a quiet stream is not cut and relisted.
 */
import { createServer, type Server, Socket } from 'node:net';
import { simulatorFor, startArgoCdApi } from '@argus/argocd-sim';
import { captureLogs, waitFor } from '@argus/testkit';
import { describe, expect, test } from 'vitest';
import { ArgoCdApiSource } from '../src/sources/argocd-api.js';
import {
  AGENT_STREAMS,
  basicScenario,
  cleanupsAfterEach,
  natsForFile,
  TOKEN,
  tempSpool,
  testAgent,
} from './fixtures.js';

const nats = natsForFile({ freshBeforeEach: AGENT_STREAMS });
const logs = captureLogs({ level: 'info' });
const cleanups = cleanupsAfterEach();

/** A TCP proxy to `port` that closes any connection quiet for `idleMs` in both directions. */
const idleTimeoutProxy = async (
  port: number,
  idleMs: number,
): Promise<{ url: string; cut: () => number }> => {
  let cut = 0;
  const server: Server = createServer((client: Socket) => {
    const upstream = new Socket();
    upstream.connect(port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    let timer = setTimeout(close, idleMs);
    function close() {
      cut++;
      client.destroy();
      upstream.destroy();
    }
    const active = () => {
      clearTimeout(timer);
      timer = setTimeout(close, idleMs);
    };
    client.on('data', active);
    upstream.on('data', active);
    const end = () => clearTimeout(timer);
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  const listening = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${listening}`, cut: () => cut };
};

describe('the API stream through a proxy with an idle timeout', () => {
  test('keepalives keep a quiet stream open: no reconnect, and a change still arrives on it', async () => {
    const scenario = basicScenario('argo-idle');
    const target = simulatorFor(scenario, new Date(Date.now() - 60_000));
    for (const app of scenario.apps) target.sim.createApp(app);
    const api = await startArgoCdApi(target.sim, { token: TOKEN, keepaliveMs: 100 });
    cleanups.push(() => api.close());
    const proxy = await idleTimeoutProxy(Number(new URL(api.url).port), 400);
    const source = new ArgoCdApiSource({ url: proxy.url, token: TOKEN, logger: logs.logger });
    const agent = testAgent({
      nc: nats.nc,
      logger: logs.logger,
      source,
      instance: 'idle',
      architecture: 'managed',
      inClusterName: 'prod-eu',
      spoolFile: tempSpool('argus-idle-'),
    });
    await agent.start();
    cleanups.push(() => agent.stop());
    await waitFor(() => agent.synced, { what: 'the agent to list' });
    const before = agent.published;
    // Quiet for five idle timeouts.
    await new Promise((r) => setTimeout(r, 2000));
    expect(source.reconnects).toBe(0);
    target.sim.sync('guestbook', { revision: 'aaa' });
    await waitFor(() => agent.published > before, { what: 'the change to arrive on the open stream' });
    expect(source.reconnects).toBe(0);
    // Cut connections are only the short ones the proxy saw besides the stream (the list, the clusters).
    expect(proxy.cut()).toBeLessThanOrEqual(2);
  });
});
