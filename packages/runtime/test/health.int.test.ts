import { Writable } from 'node:stream';
import { Counter, Registry } from 'prom-client';
import { afterAll, expect, test } from 'vitest';
import { createLogger, type HealthServer, parseListen, startHealthServer } from '../src/index.js';

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

test('parseListen accepts host:port forms and refuses others', () => {
  expect(parseListen('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
  expect(parseListen(':9090')).toEqual({ host: '0.0.0.0', port: 9090 });
  expect(parseListen('[::1]:7')).toEqual({ host: '::1', port: 7 });
  expect(() => parseListen('8080')).toThrow(/expected host:port/);
  expect(() => parseListen('h:99999')).toThrow(/expected host:port/);
});
