import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  GoTemplate,
  type NotificationsConfig,
  NotificationsController,
  parseNotificationsConfigMap,
  postNotification,
  type RenderedNotification,
  runScenario,
  type Application as SimApplication,
  simulatorFor,
  subscribeEveryApp,
  templateVars,
} from '@argus/argocd-sim';
import { DLQ_STREAM, HEADERS, RAW_STREAM, UNIFIED_STREAM } from '@argus/bus';
import { type CDEvent, parse, TimeRange, toHttpBinary } from '@argus/cdevents';
import type { HealthServer } from '@argus/runtime';
import { captureLogs } from '@argus/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type Application,
  type AppProgress,
  type DetectorContext,
  detectTransitions,
  isPurl,
  WEBHOOK_PATH,
} from '../src/index.js';
import {
  BASIC_GUESTBOOK,
  BASIC_PODINFO,
  basicScenario,
  expectedMsgId,
  natsForFile,
  rawMessages,
  startWebhookReceiver,
} from './fixtures.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CM_FILE = `${REPO}deploy/argocd-notifications/argocd-notifications-cm.yaml`;
const CAPTURED = `${REPO}../shared/argocd-fixtures/cdviz-notifications-captured/`;
const CAPTURED_PRESENT = existsSync(CAPTURED);
if (!CAPTURED_PRESENT) {
  console.warn(`webhook templates: ${CAPTURED} is absent; the tests on captured Argo CD bodies are skipped`);
}

const IN_CLUSTER = 'prod-eu';
const INSTANCE = 'notifications-test';

/** The shipped ConfigMap, with the in-cluster name the agent is given (--cluster). */
const config: NotificationsConfig = (() => {
  const shipped = subscribeEveryApp(parseNotificationsConfigMap(readFileSync(CM_FILE, 'utf8')));
  return { ...shipped, context: { ...shipped.context, argusInClusterName: IN_CLUSTER } };
})();

/** The basic scenario (fixtures.ts), guestbook deploying to a cluster Argo CD knows by name. */
const scenario = basicScenario('argo-webhook', [
  BASIC_PODINFO,
  { ...BASIC_GUESTBOOK, destination: { name: 'prod-us', namespace: 'guestbook' } },
]);

/** What the templates send for the scenario, per app, in order (subject.predicate). */
const EXPECTED: Record<string, string[]> = {
  podinfo: ['service.deployed', 'incident.resolved', 'service.upgraded', 'service.rolledback'],
  guestbook: [
    'service.deployed',
    'incident.resolved',
    'incident.detected',
    'service.upgraded',
    'incident.detected',
    'incident.resolved',
    'service.removed',
  ],
};

const nats = natsForFile({ freshBeforeEach: [RAW_STREAM, UNIFIED_STREAM, DLQ_STREAM] });
let http: HealthServer;
let url: string;
const logs = captureLogs({ level: 'info' });

beforeAll(async () => {
  http = await startWebhookReceiver({
    nc: nats.nc,
    logger: logs.logger,
    instance: INSTANCE,
    inClusterName: IN_CLUSTER,
    maxEventBytes: 1024 * 1024,
    // The captured bodies are from 2025: accepted as a hub run with a wide --max-event-age would.
    timeRange: new TimeRange({ maxAgeMs: 20 * 365 * 86_400_000 }),
  });
  url = `http://127.0.0.1:${http.address.port}${WEBHOOK_PATH}`;
});
afterAll(async () => {
  await http?.close();
});

/** Posts as the `argus` webhook service does: its URL and headers. */
const post = (body: string, headers: Record<string, string> = {}) => {
  const service = config.services.get('argus');
  const contentType = service?.headers.find((h) => h.name.toLowerCase() === 'content-type')?.value;
  return postNotification(url, body, { headers: { 'content-type': contentType ?? '', ...headers } });
};

interface Stored {
  readonly event: CDEvent;
  readonly msgId: string;
  readonly subject: string;
}

const stored = async (): Promise<Stored[]> =>
  (await rawMessages(nats.nc)).map((m) => ({
    event: parse(m.data),
    msgId: m.header.get(HEADERS.msgId),
    subject: m.subject,
  }));

const predicate = (event: CDEvent) => event.context.type.split('.').slice(2, 4).join('.');
const appOf = (event: CDEvent) => (event.customData as { argocd: { app: string } }).argocd.app;

/** Plays the scenario; every observation of an app (not DELETED: Notifications never sees those) goes to the controller. */
const play = async () => {
  const target = simulatorFor(scenario, new Date(Date.now() - 120_000));
  const controller = new NotificationsController(config, { service: 'argus' });
  const sent: RenderedNotification[] = [];
  const snapshots: SimApplication[] = [];
  target.sim.subscribe((e) => {
    if (e.type === 'DELETED') return;
    snapshots.push(e.app);
    sent.push(...controller.observe(e.app));
  });
  await runScenario(target, scenario, { instant: true });
  return { sent, snapshots };
};

describe('argocd-notifications-cm templates -> webhook receiver -> CDEVENTS_RAW', () => {
  test('every notification of a simulated life is accepted (202) and stored as a valid CDEvent', async () => {
    const { sent } = await play();
    for (const n of sent) {
      const answer = await post(n.body);
      expect(answer.status, `${n.template}: ${answer.body}`).toBe(202);
      expect(JSON.parse(answer.body)).toEqual({ accepted: 1, duplicates: 0 });
    }
    const events = await stored();
    expect(events).toHaveLength(sent.length);
    const grouped: Record<string, string[]> = {};
    for (const { event } of events) {
      expect((event.context as { version?: string }).version).toBe('0.4.1');
      grouped[appOf(event)] = [...(grouped[appOf(event)] ?? []), predicate(event)];
    }
    expect(grouped).toEqual(EXPECTED);
    for (const { event, msgId, subject } of events) {
      expect(msgId).toBe(await expectedMsgId(nats.nc, subject, event));
      expect(subject).toBe(`cdevents.raw.${INSTANCE}.${predicate(event)}`);
      const content = event.subject.content as { artifactId?: string };
      if (content.artifactId !== undefined) expect(isPurl(content.artifactId), content.artifactId).toBe(true);
    }
  });

  test('the same occurrences as the agent: same context.source, context.id and timestamp from Argo CD', async () => {
    const { sent, snapshots } = await play();
    for (const n of sent) expect((await post(n.body)).status).toBe(202);
    const viaWebhook = new Map(
      (await stored()).map(({ event }) => [`${event.context.source} ${event.context.id}`, event]),
    );

    // The agent's own detector on the same snapshots (a debounce of 0, as Notifications has none).
    const ctx: DetectorContext = {
      inClusterName: IN_CLUSTER,
      clusterNames: new Map(),
      specVersion: '0.4.1',
      healthDebounceMs: 0,
      emitResyncs: false,
    };
    const progress = new Map<string, AppProgress>();
    const detected: CDEvent[] = [];
    for (const app of snapshots as unknown as Application[]) {
      const result = detectTransitions(app, progress.get(app.metadata.name), ctx, new Date());
      progress.set(app.metadata.name, result.progress);
      detected.push(...result.emissions.map((e) => e.event));
    }
    // Incident resolutions need memory Argo CD does not keep (when the incident began): only those differ.
    const comparable = detected.filter((e) => predicate(e) !== 'incident.resolved');
    expect(comparable.map(predicate).sort()).toEqual(
      [...viaWebhook.values()]
        .map(predicate)
        .filter((p) => p !== 'incident.resolved')
        .sort(),
    );
    for (const event of comparable) {
      const twin = viaWebhook.get(`${event.context.source} ${event.context.id}`);
      expect(twin, `${event.context.type} ${event.context.source}`).toBeDefined();
      expect(twin?.context.type).toBe(event.context.type);
      expect(twin?.context.timestamp).toBe(event.context.timestamp);
      expect(twin?.subject.id).toBe(event.subject.id);
      expect(twin?.subject.content).toEqual(event.subject.content);
    }
    // Timestamps are Argo CD's: the deployments' deployedAt, the deletion's deletionTimestamp.
    // (history is trimmed to revisionHistoryLimit: collect the entries every snapshot showed.)
    const deployedAt = new Map<number, string>();
    for (const a of snapshots.filter((x) => x.metadata.name === 'podinfo')) {
      for (const h of a.status.history ?? []) deployedAt.set(h.id, h.deployedAt);
    }
    const podinfoTimes = [...viaWebhook.values()]
      .filter((e) => appOf(e) === 'podinfo' && predicate(e).startsWith('service.'))
      .map((e) => e.context.timestamp);
    expect(podinfoTimes).toEqual([0, 1, 2].map((id) => deployedAt.get(id)));
    const removal = [...viaWebhook.values()].find((e) => predicate(e) === 'service.removed');
    const deleting = snapshots.find((a) => a.metadata.deletionTimestamp !== undefined);
    expect(removal?.context.timestamp).toBe(deleting?.metadata.deletionTimestamp);
  });

  test('a repeated delivery (Argo CD retries, two controllers) is one stored event with the same Nats-Msg-Id', async () => {
    const { sent } = await play();
    const first = sent[0] as RenderedNotification;
    expect((await post(first.body)).status).toBe(202);
    const again = await post(first.body);
    expect(again.status).toBe(202);
    expect(JSON.parse(again.body)).toEqual({ accepted: 1, duplicates: 1 });
    // CloudEvents binary mode of the same event: the same identity, absorbed too.
    const binary = toHttpBinary(parse(first.body));
    const third = await postNotification(url, binary.body, { headers: binary.headers });
    expect(JSON.parse(third.body)).toEqual({ accepted: 1, duplicates: 1 });
    const events = await stored();
    expect(events).toHaveLength(1);
    const event = parse(first.body);
    expect(events[0]?.msgId).toBe(await expectedMsgId(nats.nc, events[0]?.subject ?? '', event));
  });

  test('a template that renders an invalid CDEvent gets 400 with the validation issues, nothing is stored', async () => {
    // The shape of the talk's template: fields interpolated as text, a type v0.4.1 does not have, no artifactId.
    const talkStyle = new GoTemplate(
      'talk-style',
      `{"context": {"version": "0.4.1", "id": "{{ .app.metadata.uid }}", "source": "/argocd/{{ .app.metadata.name }}",
        "type": "dev.cdevents.service.deployed.0.1.1", "timestamp": "{{ .app.status.reconciledAt }}"},
       "subject": {"id": "{{ .app.spec.destination.namespace }}/{{ .app.metadata.name }}", "type": "service",
        "content": {"environment": {"id": "{{ .app.spec.destination.namespace }}"}}}}`,
    );
    const { snapshots } = await play();
    const app = snapshots.find((a) => a.metadata.name === 'podinfo') as SimApplication;
    const answer = await post(talkStyle.execute(templateVars(config, app, 'argus')));
    expect(answer.status).toBe(400);
    const refusal = JSON.parse(answer.body) as {
      reason: string;
      issues: { path: string; message: string }[];
    };
    expect(refusal.reason).toBeTruthy();
    expect(refusal.issues.length).toBeGreaterThan(0);
    expect(refusal.issues.map((i) => i.path).join(' ')).toMatch(/context\/type|context\.type/);

    // Text interpolation also breaks on Argo CD's own messages (a quote in the failure message).
    const broken = await post(
      '{"context": {"version": "0.4.1", "id": "x", "description": "Deployment "a" is invalid"}}',
    );
    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.body).reason).toBeTruthy();
    expect(await stored()).toHaveLength(0);
  });
});

describe.skipIf(!CAPTURED_PRESENT)('real Argo CD bodies (cdviz capture of demo.cdviz.dev)', () => {
  const files = CAPTURED_PRESENT
    ? readdirSync(CAPTURED)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];

  test('the captured raw bodies are refused with a reason: they are Applications, not CDEvents', async () => {
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const answer = await post(readFileSync(`${CAPTURED}${file}`, 'utf8'));
      expect(answer.status, file).toBe(400);
      const refusal = JSON.parse(answer.body) as {
        error: string;
        reason: string;
        issues?: { path: string }[];
      };
      expect(refusal.reason, file).toBeTruthy();
      expect(refusal.error, file).toMatch(/CDEvent|context/i);
    }
    expect(await stored()).toHaveLength(0);
  });

  test('the shipped templates on those real Applications give valid CDEvents, accepted in delivery order', async () => {
    const controller = new NotificationsController(config, { service: 'argus' });
    const sent: { file: string; n: RenderedNotification }[] = [];
    for (const file of files) {
      const { app } = JSON.parse(readFileSync(`${CAPTURED}${file}`, 'utf8')) as { app: SimApplication };
      for (const n of controller.observe(app)) sent.push({ file, n });
    }
    for (const { file, n } of sent) {
      const answer = await post(n.body);
      expect(answer.status, `${file} ${n.template}: ${answer.body}`).toBe(202);
    }
    const events = (await stored()).map((s) => s.event);
    const services = events.filter((e) => predicate(e).startsWith('service.'));
    // podinfo (multi-source Helm from OCI): first deployed 6.9.0, then 6.9.2, then removed by its app-of-apps.
    const podinfo = services.filter((e) => appOf(e) === 'aaaaaaa');
    expect(podinfo.map(predicate)).toEqual(['service.deployed', 'service.upgraded', 'service.removed']);
    expect(podinfo.map((e) => (e.subject.content as { artifactId?: string }).artifactId)).toEqual([
      'pkg:helm/aaaaaaa@6.9.0?repository_url=ghcr.io%2Fstefanprodan%2Fcharts',
      'pkg:helm/aaaaaaa@6.9.2?repository_url=ghcr.io%2Fstefanprodan%2Fcharts',
      undefined,
    ]);
    expect(podinfo.map((e) => e.context.timestamp)).toEqual([
      '2025-10-02T16:21:03Z',
      '2025-10-02T16:57:44Z',
      '2025-10-02T17:05:10Z',
    ]);
    // The app-of-apps (single-source Git on GitHub): an upgrade per new commit, none for the Running operations.
    const bootstrap = services.filter((e) => appOf(e) === 'aaaaaaaaa');
    expect(bootstrap.map(predicate)).toEqual(Array(4).fill('service.upgraded'));
    expect((bootstrap[0]?.subject.content as { artifactId?: string } | undefined)?.artifactId).toBe(
      'pkg:github/cdviz-dev/demo-cluster@94fcc5e8673e0d2d7fbca6b1c6c455ba308314fc#4-k8s-gitops',
    );
    // podinfo degraded (010), then healthy again (017).
    const incidents = events.filter((e) => appOf(e) === 'aaaaaaa' && predicate(e).startsWith('incident.'));
    expect(incidents.map((e) => [predicate(e), e.context.timestamp])).toEqual([
      ['incident.detected', '2025-10-02T16:31:04Z'],
      ['incident.resolved', '2025-10-02T16:53:25Z'],
      ['incident.resolved', '2025-10-02T16:57:51Z'],
    ]);
  });
});
