import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import {
  type Application,
  buildScenario,
  GoTemplate,
  goFormat,
  NotificationsController,
  parseNotificationsConfigMap,
  postNotification,
  runScenario,
  SimulatedArgoCD,
  simulatorFor,
  subscribeEveryApp,
} from '../src/index.js';
import {
  ExprError,
  Expression,
  isAppSyncStatusRefreshed,
  NotificationsConfigError,
  renderNotification,
  renderTrigger,
  TemplateError,
} from '../src/notifications.js';

const CM_FILE = new URL('../../../deploy/argocd-notifications/argocd-notifications-cm.yaml', import.meta.url);
/** The shipped ConfigMap as subscribe.sh leaves it: every trigger subscribed. */
const shipped = () => subscribeEveryApp(parseNotificationsConfigMap(readFileSync(CM_FILE, 'utf8')));

const render = (source: string, data: unknown = {}) => new GoTemplate('t', source).execute(data);

describe('Go text/template subset', () => {
  test('fields, variables, pipelines, if/else if/else, with, range and trim markers', () => {
    const data = { app: { name: 'podinfo', list: ['a', 'b'], nested: { n: 3 } } };
    expect(render('{{ .app.name }}', data)).toBe('podinfo');
    expect(render('{{ $x := .app.nested }}{{ $x.n }}', data)).toBe('3');
    expect(render('{{ .app.name | printf "%s!" }}', data)).toBe('podinfo!');
    expect(render('{{ (index .app.list 1) }}-{{ (dict "k" "v").k }}', data)).toBe('b-v');
    expect(
      render('{{ if eq .app.name "x" }}x{{ else if eq .app.name "podinfo" }}p{{ else }}o{{ end }}', data),
    ).toBe('p');
    expect(render('{{ with .app.missing }}yes{{ else }}no{{ end }}', data)).toBe('no');
    expect(render('{{ range $i, $e := .app.list }}{{ $i }}={{ $e }};{{ end }}', data)).toBe('0=a;1=b;');
    expect(render('{{ range .app.missing }}x{{ else }}empty{{ end }}', data)).toBe('empty');
    expect(render('a  \n {{- " b " -}} \n  c')).toBe('a b c');
    expect(render('a {{- /* a comment */ -}} b')).toBe('ab');
    expect(render('{{ `raw\\n` }}')).toBe('raw\\n');
  });

  test('assignment reaches the variable declared outside a control structure, declarations stay inside', () => {
    expect(render('{{ $k := "a" }}{{ if true }}{{ $k = "b" }}{{ end }}{{ $k }}')).toBe('b');
    expect(() => render('{{ if true }}{{ $k := "a" }}{{ end }}{{ $k }}')).toThrow(/undefined variable: \$k/);
  });

  test('and/or short-circuit and return the deciding value, as Go 1.18+', () => {
    expect(render('{{ and "x" "y" }}|{{ and "" .a.b }}', { a: null })).toBe('y|');
    expect(render('{{ or "" "fallback" }}')).toBe('fallback');
    expect(render('{{ if and .a .a.b }}y{{ else }}n{{ end }}', {})).toBe('n');
  });

  test('Go strings are bytes: len, substr, sha1sum and b64dec work on bytes', () => {
    expect(render('{{ len "é" }}')).toBe('2');
    expect(render('{{ substr 0 1 "éa" | len }}')).toBe('1');
    expect(render('{{ sha1sum "abc" }}')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    // UUIDv5 the way the shipped templates compute it: the RFC 9562 example (www.example.com in the DNS namespace).
    const uuid = render(
      '{{ $h := sha1sum (print (b64dec "a6e4EJ2tEdGAtADAT9QwyA==") "www.example.com") }}' +
        '{{ $v := dict "0" "8" "1" "9" "2" "a" "3" "b" "4" "8" "5" "9" "6" "a" "7" "b" "8" "8" "9" "9" "a" "a" "b" "b" "c" "8" "d" "9" "e" "a" "f" "b" }}' +
        '{{ printf "%s-%s-5%s-%s%s-%s" (substr 0 8 $h) (substr 8 12 $h) (substr 13 16 $h) (index $v (substr 16 17 $h)) (substr 17 20 $h) (substr 20 32 $h) }}',
    );
    expect(uuid).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  test('sprig functions with their Go behaviour', () => {
    expect(render('{{ toJson .m }}', { m: { b: 1, a: '<x> & "y"' } })).toBe(
      '{"a":"\\u003cx\\u003e \\u0026 \\"y\\"","b":1}',
    );
    expect(
      render('{{ default "d" 0 }}/{{ default "d" "" }}/{{ default "d" "v" }}/{{ default "d" .missing }}'),
    ).toBe('d/d/v/d');
    expect(render('{{ urlquery "https://a.b/c d" }}')).toBe('https%3A%2F%2Fa.b%2Fc+d');
    expect(render('{{ join "," .l }}', { l: ['a', 'b'] })).toBe('a,b');
    expect(render('{{ last .l }}', { l: [1, 2] })).toBe('2');
    expect(render('{{ sub 3 1 }}/{{ lower "ÀB" }}/{{ trimSuffix ".git" "r.git" }}')).toBe('2/àb/r');
    expect(render('{{ regexReplaceAll `^x(\\d+)$` "x42" "$1!" }}')).toBe('42!');
    expect(render('{{ join "|" (regexSplit "[/:]" "git@h:o/r" -1) }}')).toBe('git@h|o|r');
    expect(render('{{ print "a" 1 2 "b" }}')).toBe('a1 2b');
  });

  test('template errors are clear: unknown function, missing value printed, field of nil, wrong types', () => {
    expect(() => render('{{ nosuch .x }}')).toThrow(TemplateError);
    expect(() => render('{{ nosuch .x }}')).toThrow(/function "nosuch" not defined/);
    expect(() => render('{{ .app.nmae }}', { app: { name: 'a' } })).toThrow(/missing value/);
    expect(() => render('{{ .app.status.phase }}', { app: { status: null } })).toThrow(
      /nil pointer evaluating interface \{\}\.phase/,
    );
    // A missing key is no value, and so are its fields (checked against Go: pnpm check:notifications).
    expect(render('{{ default "none" .app.status.phase }}', { app: {} })).toBe('none');
    expect(() => render('{{ .app.name.first }}', { app: { name: 'a' } })).toThrow(
      /can't evaluate field first in type string/,
    );
    expect(() => render('{{ eq 1 "1" }}')).toThrow(/incompatible types for comparison/);
    expect(() => render('{{ if .x }}')).toThrow(/without \{\{end\}\}/);
    expect(() => render('{{ printf "%x" 1 }}')).toThrow(/not supported/);
    try {
      render('{{ nosuch }}');
    } catch (error) {
      expect((error as TemplateError).reason).toBe('parse');
    }
  });
});

describe('expr-lang subset of trigger conditions', () => {
  const app = {
    status: {
      operationState: { phase: 'Failed' },
      history: [
        { id: 0, revisions: ['1'] },
        { id: 1, revisions: ['1'] },
      ],
    },
  };
  const ev = (source: string) => new Expression(source).evaluate({ app });

  test('member access, indexing, len, in, boolean operators and list equality', () => {
    expect(ev("app.status.operationState.phase in ['Error', 'Failed']")).toBe(true);
    expect(ev('app.status.history[len(app.status.history) - 1].id == 1')).toBe(true);
    expect(ev('app.status.history[-1].id')).toBe(1);
    expect(ev('app.status.history[0].revisions == app.status.history[1].revisions')).toBe(true);
    expect(ev('app.status.missing == nil and not (app.status.history == nil)')).toBe(true);
    expect(ev('app.status.missing?.phase')).toBe(null);
    expect(ev("app.status.operationState.phase not in ['Succeeded'] || false")).toBe(true);
  });

  test("the conditional operator (expr's `? :`, lowest precedence, right-associative), only on booleans", () => {
    expect(ev('app.status.missing == nil ? 1 : 2')).toBe(1);
    expect(ev('app.status.operationState == nil ? nil : [app.status.operationState.phase, 3]')).toEqual([
      'Failed',
      3,
    ]);
    expect(
      ev('app.status.missing == nil || len(app.status.missing) == 0 ? nil : app.status.missing[0]'),
    ).toBe(null);
    expect(ev("false ? 'a' : true ? 'b' : 'c'")).toBe('b');
    expect(() => ev("app.status ? 'a' : 'b'")).toThrow(/non-bool expression/);
  });

  test("oncePer values print as Go's %v prints them (state keys)", () => {
    expect(goFormat(null)).toBe('<nil>');
    expect(goFormat(['Failed', 3, null, true])).toBe('[Failed 3 <nil> true]');
    expect(goFormat({ status: 'Healthy', lastTransitionTime: 'T' })).toBe(
      'map[lastTransitionTime:T status:Healthy]',
    );
    expect(goFormat([[1, 2], { b: [] }])).toBe('[[1 2] map[b:[]]]');
  });

  test('nil member access and unknown names are errors', () => {
    expect(() => ev('app.status.missing.phase')).toThrow(ExprError);
    expect(() => ev('app.status.missing.phase')).toThrow(/cannot fetch phase from <nil>/);
    expect(() => ev('application.status')).toThrow(/unknown name application/);
    expect(() => ev('lenn(app)')).toThrow(/unknown function lenn/);
    expect(() => new Expression('app.status ==')).toThrow(/unexpected end/);
  });
});

describe('the shipped argocd-notifications-cm', () => {
  test("carries only keys of its own (a merge patch must not replace the user's context or subscriptions)", () => {
    const config = parseNotificationsConfigMap(readFileSync(CM_FILE, 'utf8'));
    expect(config.subscriptions).toEqual([]);
    expect(config.context).toEqual({});
  });

  test('parses; every subscribed trigger exists and sends a template with a webhook to the argus service', () => {
    const config = shipped();
    const service = config.services.get('argus');
    expect(service?.url).toMatch(/\/api\/v1\/notifications$/);
    expect(service?.headers).toContainEqual({ name: 'Content-Type', value: 'application/json' });
    const subscribed = config.subscriptions.flatMap((s) => s.triggers);
    expect(subscribed.length).toBe(config.triggers.size);
    for (const trigger of subscribed) {
      const conditions = config.triggers.get(trigger);
      expect(conditions, trigger).toBeDefined();
      for (const c of conditions ?? []) {
        expect(c.oncePer, `${trigger} oncePer`).toBeDefined();
        for (const t of c.send) expect(config.templates.get(t)?.webhook.get('argus')?.method).toBe('POST');
      }
    }
  });

  test('an unknown template in a trigger is refused when the ConfigMap is read', () => {
    const text = readFileSync(CM_FILE, 'utf8').replace('send: [cdevents-service-removed]', 'send: [nope]');
    expect(() => parseNotificationsConfigMap(text)).toThrow(NotificationsConfigError);
  });

  test('bodies of a simulated life: types, ids stable per occurrence, Argo CD timestamps, purls', async () => {
    const config = shipped();
    const scenario = buildScenario({
      instance: { name: 'unit' },
      apps: [
        {
          name: 'podinfo',
          destination: { server: 'https://kubernetes.default.svc', namespace: 'podinfo' },
          sources: [{ repoURL: 'ghcr.io/stefanprodan/charts', chart: 'podinfo', targetRevision: '6.9.0' }],
        },
        {
          name: 'guestbook',
          destination: { name: 'prod-us', namespace: 'guestbook' },
          source: { repoURL: 'https://github.com/argoproj/argocd-example-apps', path: 'guestbook' },
        },
      ],
      steps: [
        { at: '0s', sync: { app: 'podinfo', revisions: ['6.9.0'] } },
        { at: '1s', sync: { app: 'guestbook', revision: '53e28ff2' } },
        { at: '2s', sync: { app: 'podinfo', revisions: ['6.9.2'] } },
        {
          at: '3s',
          sync: { app: 'guestbook', revision: '0d521c6e', fail: 'Deployment "guestbook-ui" is invalid' },
        },
        { at: '5s', rollback: { app: 'podinfo', toHistoryId: 0 } },
        { at: '6s', degrade: { app: 'guestbook' } },
        { at: '9s', selfHeal: { app: 'podinfo' } },
        { at: '10s', delete: { app: 'guestbook' } },
      ],
    });
    const target = simulatorFor(scenario, new Date('2026-03-01T10:00:00Z'));
    const controller = new NotificationsController(config);
    const bodies: { trigger: string; event: Record<string, Record<string, unknown>> }[] = [];
    const snapshots: Application[] = [];
    target.sim.subscribe((e) => {
      if (e.type === 'DELETED') return; // Argo CD Notifications never sees a deleted object
      snapshots.push(e.app);
      for (const n of controller.observe(e.app))
        bodies.push({ trigger: n.trigger ?? '', event: JSON.parse(n.body) });
    });
    await runScenario(target, scenario, { instant: true });

    const summary = bodies
      .filter((b) => b.trigger !== 'on-cdevents-health-healthy')
      .map(
        (b) =>
          `${b.event.customData?.argocd ? (b.event.customData.argocd as { app: string }).app : ''}:${String(b.event.context?.type)}`,
      );
    expect(summary).toEqual([
      'podinfo:dev.cdevents.service.deployed.0.2.0',
      'guestbook:dev.cdevents.service.deployed.0.2.0',
      'podinfo:dev.cdevents.service.upgraded.0.2.0',
      'guestbook:dev.cdevents.incident.detected.0.2.0',
      'podinfo:dev.cdevents.service.rolledback.0.2.0',
      'guestbook:dev.cdevents.incident.detected.0.2.0',
      'guestbook:dev.cdevents.service.removed.0.2.0',
    ]);
    const byType = (type: string) =>
      bodies.filter((b) => String(b.event.context?.type).includes(type)).map((b) => b.event);
    const [first] = byType('service.deployed');
    expect(first?.context).toMatchObject({
      version: '0.4.1',
      source: '/argocd/in-cluster/podinfo/podinfo',
      timestamp: '2026-03-01T10:00:00Z',
    });
    expect(first?.subject).toMatchObject({
      id: 'podinfo',
      content: {
        environment: { id: 'in-cluster/podinfo', source: '/argocd/in-cluster' },
        artifactId: 'pkg:helm/podinfo@6.9.0?repository_url=ghcr.io%2Fstefanprodan%2Fcharts',
      },
    });
    expect(byType('service.deployed')[1]?.subject).toMatchObject({
      content: { artifactId: 'pkg:github/argoproj/argocd-example-apps@53e28ff2#guestbook' },
    });
    const [syncFailure, degraded] = byType('incident.detected');
    expect(syncFailure?.context?.timestamp).toBe('2026-03-01T10:00:03Z');
    expect((syncFailure?.subject?.content as { description?: string } | undefined)?.description).toBe(
      'sync failed: Deployment "guestbook-ui" is invalid',
    );
    expect(degraded?.context?.timestamp).toBe('2026-03-01T10:00:06Z');
    expect(byType('service.removed')[0]?.context).toMatchObject({
      source: '/argocd/prod-us/guestbook/guestbook',
      timestamp: '2026-03-01T10:00:10Z',
    });
    // Every id is a UUID, distinct per occurrence; rendering a snapshot again gives the same body.
    const ids = bodies.map((b) => String(b.event.context?.id));
    expect(
      ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)),
    ).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const last = snapshots.at(-1) as Application;
    expect(renderNotification(config, 'cdevents-service-removed', last).body).toBe(
      renderNotification(config, 'cdevents-service-removed', structuredClone(last)).body,
    );
  });
});

describe('notification controller', () => {
  const sim = () => {
    const s = new SimulatedArgoCD({ name: 'ctl', clock: () => new Date('2026-03-01T10:00:00Z') });
    s.createApp({
      name: 'a',
      destination: { namespace: 'a' },
      source: { repoURL: 'https://git.example.com/a.git' },
    });
    return s;
  };

  test('oncePer: the same occurrence observed again is not sent again', () => {
    const s = sim();
    const app = s.sync('a', { revision: 'r1' });
    const controller = new NotificationsController(shipped());
    const sent = controller.observe(app).map((n) => n.trigger);
    expect(sent).toContain('on-cdevents-service-deployed');
    expect(controller.observe(app)).toEqual([]);
    expect(controller.observe(s.refresh('a'))).toEqual([]);
  });

  test('renderTrigger evaluates conditions without bookkeeping; generic Git sources get a pkg:generic purl', () => {
    const s = sim();
    const app = s.sync('a', { revision: 'r1' });
    const [n] = renderTrigger(shipped(), 'on-cdevents-service-deployed', app);
    expect(JSON.parse(n?.body ?? '{}').subject.content.artifactId).toBe(
      'pkg:generic/a@r1?vcs_url=git%2Bhttps%3A%2F%2Fgit.example.com%2Fa.git%40r1',
    );
    expect(renderTrigger(shipped(), 'on-cdevents-sync-failed', app)).toEqual([]);
    expect(() => renderTrigger(shipped(), 'on-nothing', app)).toThrow(/no trigger "on-nothing"/);
  });

  test('an operation finished after the last reconciliation is not looked at yet', () => {
    const app = sim().sync('a', { revision: 'r1' });
    expect(isAppSyncStatusRefreshed(app)).toBe(true);
    const stale = structuredClone(app);
    stale.status.reconciledAt = '2026-03-01T09:00:00Z';
    expect(isAppSyncStatusRefreshed(stale)).toBe(false);
    expect(new NotificationsController(shipped()).observe(stale)).toEqual([]);
    // observedAt still counts; a missing phase counts as refreshed (controller.go isAppSyncStatusRefreshed).
    expect(
      isAppSyncStatusRefreshed({ ...stale, status: { ...stale.status, observedAt: '2099-01-01T00:00:00Z' } }),
    ).toBe(true);
    expect(
      isAppSyncStatusRefreshed({ status: { operationState: { startedAt: '2026-03-01T09:00:00Z' } } }),
    ).toBe(true);
    const unreconciled = structuredClone(app);
    delete unreconciled.status.reconciledAt;
    expect(isAppSyncStatusRefreshed(unreconciled)).toBe(false);
  });

  test('without oncePer a trigger is edge-triggered; annotations subscribe too', () => {
    const config = parseNotificationsConfigMap(`
data:
  service.webhook.hook: |
    url: http://127.0.0.1:1/
  trigger.on-degraded: |
    - when: app.status.health.status == 'Degraded'
      send: [t]
  template.t: |
    webhook:
      hook:
        method: POST
        body: '{"app": {{ toJson .app.metadata.name }}, "type": {{ toJson .serviceType }}}'
`);
    const s = sim();
    s.sync('a', { revision: 'r1' });
    const controller = new NotificationsController(config);
    const subscribed = (app: Application) => {
      app.metadata.annotations = {
        ...app.metadata.annotations,
        'notifications.argoproj.io/subscribe.on-degraded.hook': '',
      };
      return app;
    };
    expect(controller.observe(subscribed(s.degrade('a'))).map((n) => n.body)).toEqual([
      '{"app": "a", "type": "webhook"}',
    ]);
    expect(controller.observe(subscribed(s.refresh('a')))).toEqual([]);
    controller.observe(subscribed(s.recover('a')));
    expect(controller.observe(subscribed(s.degrade('a')))).toHaveLength(1);
  });
});

test('postNotification posts the body with the JSON content type and returns the answer', async () => {
  const received: { url: string; type: string; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      received.push({ url: req.url ?? '', type: req.headers['content-type'] ?? '', body });
      res.writeHead(202).end('{"accepted":1}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    const result = await postNotification(`http://127.0.0.1:${port}/api/v1/`, '{"x":1}', {
      path: '/notifications',
    });
    expect(result).toEqual({ status: 202, body: '{"accepted":1}' });
    expect(received).toEqual([{ url: '/api/v1/notifications', type: 'application/json', body: '{"x":1}' }]);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
