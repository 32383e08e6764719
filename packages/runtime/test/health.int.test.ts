import { type AddressInfo, createServer } from 'node:net';
import { Writable } from 'node:stream';
import { Counter, Registry } from 'prom-client';
import { afterAll, expect, test } from 'vitest';
import {
  createLogger,
  type HealthServer,
  listenFailure,
  OptionsError,
  parseListen,
  startHealthServer,
} from '../src/index.js';

const logger = createLogger({
  service: 't',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, d) => d() }),
});
let server: HealthServer | undefined;
afterAll(() => server?.close());

test('healthz, readyz and metrics over real HTTP', async () => {
  const registry = new Registry();
  const counter = new Counter({ name: 'argus_test_total', help: 'test', registers: [registry] });
  counter.inc(3);
  let ready = false;
  server = await startHealthServer({
    listen: parseListen('127.0.0.1:0'),
    registry,
    logger,
    readiness: () => ({ ready, reasons: ready ? [] : ['nats: connecting'] }),
  });
  const base = `http://127.0.0.1:${server.address.port}`;
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  const notReady = await fetch(`${base}/readyz`);
  expect(notReady.status).toBe(503);
  expect(await notReady.json()).toEqual({ status: 'not ready', reasons: ['nats: connecting'] });
  ready = true;
  expect((await fetch(`${base}/readyz`)).status).toBe(200);
  expect(await (await fetch(`${base}/metrics`)).text()).toContain('argus_test_total 3');
  expect((await fetch(`${base}/nope`)).status).toBe(404);
});

test('readyMetric exports /readyz as a 0/1 gauge, read at each scrape', async () => {
  let ready = false;
  const metricsServer = await startHealthServer({
    listen: parseListen('127.0.0.1:0'),
    registry: new Registry(),
    readyMetric: 'argus_test_ready',
    logger,
    readiness: () => ({ ready, reasons: ready ? [] : ['nats: reconnecting'] }),
  });
  try {
    const metrics = () =>
      fetch(`http://127.0.0.1:${metricsServer.address.port}/metrics`).then((r) => r.text());
    expect(await metrics()).toMatch(/^argus_test_ready 0$/m);
    ready = true;
    expect(await metrics()).toMatch(/^argus_test_ready 1$/m);
  } finally {
    await metricsServer.close();
  }
});

test('parseListen accepts host:port forms and refuses others', () => {
  expect(parseListen('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080, option: '--listen' });
  expect(parseListen(':9090', '--http-listen')).toEqual({
    host: '0.0.0.0',
    port: 9090,
    option: '--http-listen',
  });
  expect(parseListen('[::1]:7')).toMatchObject({ host: '::1', port: 7 });
  expect(() => parseListen('8080')).toThrow(/expected host:port/);
  expect(() => parseListen('h:99999')).toThrow(/expected host:port/);
});

test('a port already taken fails with the address, the flag and what to do', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { port } = taken.address() as AddressInfo;
  try {
    const error = await startHealthServer({
      listen: parseListen(`127.0.0.1:${port}`, '--http-listen'),
      registry: new Registry(),
      logger,
      readiness: () => ({ ready: true, reasons: [] }),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as OptionsError).option).toBe('--http-listen');
    expect((error as Error).message).toBe(
      `cannot listen on 127.0.0.1:${port} (--http-listen): another process is already listening there; stop it or choose a free port`,
    );
  } finally {
    taken.close();
  }
});

test('listenFailure reads the errno grpc-js folds into its message', () => {
  const grpcError = new Error(
    'No address added out of total 1 resolved errors: [listen EADDRINUSE: address already in use 127.0.0.1:5]',
  );
  expect(listenFailure({ host: '::1', port: 5, option: '--grpc-listen' }, grpcError).message).toBe(
    'cannot listen on [::1]:5 (--grpc-listen): another process is already listening there; stop it or choose a free port',
  );
  expect(listenFailure({ host: '10.9.9.9', port: 5 }, new Error('boom')).message).toBe(
    'cannot listen on 10.9.9.9:5 (--listen): boom',
  );
});
