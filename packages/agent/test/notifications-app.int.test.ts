/**
 * Application mode of the Notifications path: Argo CD Notifications posts the Application itself
 * (deploy/argocd-notifications/argocd-notifications-applications-cm.yaml), and the agent follows it
 * with the detector of its other sources. Checked against the simulator's API source agent, and against
 * real Notifications bodies captured from a live Argo CD (../shared/argocd-fixtures).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  NotificationsController,
  parseNotificationsConfigMap,
  postNotification,
  type RenderedNotification,
  runScenario,
  simulatorFor,
  startArgoCdApi,
  subscribeEveryApp,
} from '@argus/argocd-sim';
import { HEADERS } from '@argus/bus';
import { type CDEvent, isCDEvent, parse } from '@argus/cdevents';
import { type HealthServer, startHealthServer } from '@argus/runtime';
import { captureLogs, waitFor } from '@argus/testkit';
import { describe, expect, test } from 'vitest';
import { NotAnApplicationError } from '../src/errors.js';
import { AgentMetrics } from '../src/metrics.js';
import { ArgoCdApiSource } from '../src/sources/argocd-api.js';
import {
  APPLICATION_WEBHOOK_PATH,
  applicationOf,
  applicationWebhookRoute,
  NotificationsAppSource,
} from '../src/sources/notifications.js';
import {
  AGENT_STREAMS,
  BASIC_EXPECTED,
  basicScenario,
  cleanupsAfterEach,
  natsForFile,
  rawMessages,
  TOKEN,
  tempSpool,
  testAgent,
} from './fixtures.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CM_FILE = `${REPO}deploy/argocd-notifications/argocd-notifications-applications-cm.yaml`;
const CAPTURED = `${REPO}../shared/argocd-fixtures/cdviz-notifications-captured/`;
const CAPTURED_PRESENT = existsSync(CAPTURED);
if (!CAPTURED_PRESENT) {
  console.warn(
    `notifications (applications): ${CAPTURED} is absent; the test on captured Argo CD bodies is skipped`,
  );
}

const nats = natsForFile({ connect: { maxReconnectAttempts: -1 }, freshBeforeEach: AGENT_STREAMS });
const logs = captureLogs({ level: 'info' });
const cleanups = cleanupsAfterEach();
const config = subscribeEveryApp(parseNotificationsConfigMap(readFileSync(CM_FILE, 'utf8')));

interface Published {
  readonly instance: string;
  readonly event: CDEvent;
}

const published = async (): Promise<Published[]> =>
  (await rawMessages(nats.nc)).map((m) => ({
    instance: m.subject.split('.')[2] ?? '',
    event: parse(m.data),
  }));

const key = (e: CDEvent) => `${e.context.type} ${e.context.source} ${e.context.id}`;
const predicate = (e: CDEvent) => e.context.type.split('.').slice(2, 4).join('.');

/** An agent on the Notifications source, and its receiver on a loopback port. */
const notificationsAgent = async (instance: string) => {
  const source = new NotificationsAppSource();
  const agent = testAgent({
    nc: nats.nc,
    logger: logs.logger,
    source,
    instance,
    architecture: 'distributed',
    inClusterName: 'prod-eu',
    spoolFile: tempSpool('argus-notifications-'),
  });
  await agent.start();
  cleanups.push(() => agent.stop());
  const http: HealthServer = await startHealthServer({
    listen: { host: '127.0.0.1', port: 0 },
    registry: new AgentMetrics().registry,
    logger: logs.logger,
    readiness: () => ({ ready: agent.synced, reasons: [] }),
    routes: [
      applicationWebhookRoute({ source, logger: logs.logger, token: 'hook', maxBytes: 4 * 1024 * 1024 }),
    ],
  });
  cleanups.push(() => http.close());
  const base = `http://127.0.0.1:${http.address.port}/api/v1/notifications`;
  const post = (n: RenderedNotification | { body: string; path?: string }) =>
    postNotification(base, n.body, {
      headers: { authorization: 'Bearer hook' },
      ...(n.path === undefined ? {} : { path: n.path }),
    });
  return { agent, post, url: `http://127.0.0.1:${http.address.port}${APPLICATION_WEBHOOK_PATH}` };
};

describe('Argo CD Notifications posting Applications', () => {
  test('the same events, with the same ids, as the agent watching the API', async () => {
    const scenario = basicScenario('argo-apps');
    const target = simulatorFor(scenario, new Date(Date.now() - 120_000));
    const api = await startArgoCdApi(target.sim, { token: TOKEN });
    cleanups.push(() => api.close());
    const viaApi = testAgent({
      nc: nats.nc,
      logger: logs.logger,
      source: new ArgoCdApiSource({ url: api.url, token: TOKEN, logger: logs.logger }),
      instance: 'via-api',
      architecture: 'distributed',
      inClusterName: 'prod-eu',
      spoolFile: tempSpool('argus-api-'),
    });
    await viaApi.start();
    cleanups.push(() => viaApi.stop());
    await waitFor(() => viaApi.synced, { what: 'the API agent to list' });
    const hooks = await notificationsAgent('via-notifications');
    const controller = new NotificationsController(config, { service: 'argus' });
    const sent: RenderedNotification[] = [];
    target.sim.subscribe((e) => {
      if (e.type !== 'DELETED') sent.push(...controller.observe(e.app));
    });
    await runScenario(target, scenario, { instant: true });
    for (const n of sent) expect((await hooks.post(n)).status).toBe(202);

    const expected = Object.values(BASIC_EXPECTED).flat().length;
    await waitFor(
      async () => (await published()).filter((p) => p.instance === 'via-api').length >= expected,
      {
        what: 'the API agent to publish the scenario',
      },
    );
    await waitFor(
      async () => (await published()).filter((p) => p.instance === 'via-notifications').length >= expected,
      {
        what: 'the Notifications agent to publish the scenario',
      },
    );
    const all = await published();
    const of = (instance: string) =>
      all
        .filter((p) => p.instance === instance)
        .map((p) => key(p.event))
        .sort();
    expect(of('via-notifications')).toEqual(of('via-api'));
    // Fewer posts than changes: only what the detector reads makes Argo CD post again.
    expect(sent.length).toBeLessThan(target.sim.resourceVersion - 1000);
  });

  test('posts missed while the agent was away are made up by the next post, from the history', async () => {
    const scenario = basicScenario('argo-missed');
    const target = simulatorFor(scenario, new Date(Date.now() - 120_000));
    const hooks = await notificationsAgent('missed');
    const controller = new NotificationsController(config, { service: 'argus' });
    const sent: { app: string; n: RenderedNotification }[] = [];
    target.sim.subscribe((e) => {
      if (e.type !== 'DELETED')
        for (const n of controller.observe(e.app)) sent.push({ app: e.app.metadata.name, n });
    });
    // podinfo: deployed, upgraded, rolled back; the agent gets only the post of the rollback.
    await runScenario(
      target,
      { ...scenario, steps: scenario.steps.filter((s) => JSON.stringify(s).includes('podinfo')).slice(0, 3) },
      { instant: true },
    );
    const last = sent.filter((s) => s.app === 'podinfo').at(-1);
    expect(last).toBeDefined();
    expect((await hooks.post((last as { n: RenderedNotification }).n)).status).toBe(202);
    await waitFor(async () => (await published()).length >= 4, { what: 'the deployments from the history' });
    expect((await published()).map((p) => predicate(p.event))).toEqual([
      'environment.created',
      'service.deployed',
      'service.upgraded',
      'service.rolledback',
    ]);
  });

  test('what is not an Application is refused with a reason; a wrong token with 401', async () => {
    const hooks = await notificationsAgent('refusals');
    const post = (body: string, authorization = 'Bearer hook') =>
      fetch(hooks.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body,
      });
    expect((await post('{"app": {"metadata": {}}}')).status).toBe(400);
    const notJson = await post('{"app": ');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { reason: string }).reason).toBe('not-json');
    expect((await post('[1,2]')).status).toBe(400);
    // One receiver shape (the hub's ingest too): 401 without a token, 403 with an unknown one.
    expect((await post('{"app":{"metadata":{"name":"x"}}}', 'Bearer nope')).status).toBe(403);
    expect(() => applicationOf(Buffer.from('{"metadata":{"name":"bare"},"spec":{}}'))).not.toThrow();
    expect(() => applicationOf(Buffer.from('{"app":{"metadata":{"name":"x"},"spec":5}}'))).toThrow(
      NotAnApplicationError,
    );
    expect(await published()).toEqual([]);
  });

  test.skipIf(!CAPTURED_PRESENT)(
    'real bodies captured from a live Argo CD give valid events, each once',
    async () => {
      const hooks = await notificationsAgent('captured');
      const files = readdirSync(CAPTURED)
        .filter((f) => f.endsWith('.json'))
        .sort();
      for (const file of files) {
        const response = await hooks.post({
          body: readFileSync(`${CAPTURED}${file}`, 'utf8'),
          path: '/applications',
        });
        expect(response.status, file).toBe(202);
      }
      // The capture's podinfo ("aaaaaaa"), as the live Argo CD recorded it: refused by its project at
      // first (InvalidSpecError), cleared; deployed, then Degraded; a ComparisonError (a string where
      // Kubernetes wants a number) that clears on the next sync; a re-sync of chart 6.9.0 with new Helm
      // values (017), Healthy again; 6.9.2 recorded as the app was being deleted.
      await waitFor(async () => (await published()).some((p) => predicate(p.event) === 'service.removed'), {
        what: 'the removal of the captured podinfo',
      });
      const events = (await published()).map((p) => p.event);
      for (const e of events) expect(isCDEvent(e)).toBe(true);
      expect(new Set(events.map(key)).size).toBe(events.length);
      const podinfo = events
        .filter((e) => e.context.source === '/argocd/prod-eu/aaaaaaa/aaaaaaa')
        .map(predicate);
      expect(podinfo).toEqual([
        'incident.detected',
        'incident.resolved',
        'service.deployed',
        'incident.detected',
        'incident.detected',
        'incident.resolved',
        'service.upgraded',
        'incident.resolved',
        'service.upgraded',
        'service.removed',
      ]);
      const described = events
        .filter((e) => predicate(e) === 'incident.detected')
        .map((e) => (e.subject.content as { description: string }).description);
      expect(described.some((d) => d.startsWith('InvalidSpecError: application repo'))).toBe(true);
      expect(described.some((d) => d.startsWith('ComparisonError: Failed to compare desired state'))).toBe(
        true,
      );
      const upgraded = events.find(
        (e) => e.context.source === '/argocd/prod-eu/aaaaaaa/aaaaaaa' && predicate(e) === 'service.upgraded',
      );
      expect(((upgraded?.subject.content ?? {}) as { artifactId: string }).artifactId).toMatch(
        /argocd_rendering=[0-9a-f]{16}/,
      );
      expect(HEADERS.destinationCluster).toBeDefined();
    },
  );
});
