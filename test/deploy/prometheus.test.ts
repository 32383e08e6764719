/**
 * deploy/prometheus: every argus_* metric an alert names is one a real hub or agent exports (scraped from
 * their /metrics, started here on a real nats-server), the PrometheusRule holds exactly the plain rules
 * file's groups, and the PodMonitors select the pods and port of deploy/k8s.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgusProcess, freePort, NatsServer, REPO_ROOT, waitFor } from '@argus/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const DIR = join(REPO_ROOT, 'deploy/prometheus');

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}
interface Groups {
  readonly groups: { readonly name: string; readonly rules: Rule[] }[];
}

const RULES = parse(readFileSync(join(DIR, 'rules.yaml'), 'utf8')) as Groups;
const docsOf = (file: string) =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS() as Record<string, never>);

/** The one metric Prometheus itself makes (a target scraped or not): named on purpose, nothing else. */
const EXTERNAL = ['up'];

/** The metric names an expression reads: identifiers followed by a selector, a range or a comparison. */
const metricsOf = (expr: string): string[] => {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  return [
    ...withoutStrings.matchAll(/\b(argus_[a-z0-9_]+|up|kube_[a-z0-9_]+|[a-z]+_[a-z0-9_]+_total)\b/g),
  ].map((m) => m[1] ?? '');
};

/** Names of the samples an exposition offers: each metric, and a histogram's _bucket, _sum and _count. */
const exposed = (text: string): Set<string> => {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (name === undefined) continue;
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`);
  }
  return names;
};

const work = mkdtempSync(join(tmpdir(), 'argus-prometheus-'));
const started: ArgusProcess[] = [];
let nats: NatsServer | undefined;
const scraped = { hub: new Set<string>(), agent: new Set<string>() };
const texts = { hub: '', agent: '' };

beforeAll(async () => {
  nats = await NatsServer.start();
  const [hubPort, agentPort] = [await freePort(), await freePort()];
  const hub = new ArgusProcess([
    'hub',
    '--nats',
    nats.url,
    '--data-dir',
    join(work, 'hub-data'),
    '--http-listen',
    `127.0.0.1:${hubPort}`,
    '--grpc-listen',
    `127.0.0.1:${await freePort()}`,
  ]);
  started.push(hub);
  /** /metrics once `done` holds for it (ready, say). */
  const metricsOfProcess = async (port: number, proc: ArgusProcess, what: string, done: RegExp) => {
    let text = '';
    await waitFor(
      async () => {
        if (!proc.running) throw new Error(`${what} exited:\n${proc.output}`);
        const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
        text = res?.ok === true ? await res.text() : '';
        return done.test(text);
      },
      { what: `${what} /metrics matching ${done}`, timeoutMs: 60_000 },
    );
    return text;
  };
  texts.hub = await metricsOfProcess(hubPort, hub, 'the hub', /^argus_hub_ready 1$/m);
  const agent = new ArgusProcess([
    'agent',
    '--instance',
    'argo-metrics',
    '--source',
    'webhook',
    '--webhook-token',
    'metrics-test-token',
    '--nats',
    nats.url,
    '--listen',
    `127.0.0.1:${agentPort}`,
  ]);
  started.push(agent);
  texts.agent = await metricsOfProcess(agentPort, agent, 'the agent', /^argus_agent_ready 1$/m);
  // The agent's heartbeat, as the hub reads it from KV at scrape time.
  texts.hub = await metricsOfProcess(
    hubPort,
    hub,
    'the hub',
    /^argus_hub_agent_heartbeat_age_seconds\{instance="argo-metrics"\} \d/m,
  );
  scraped.hub = exposed(texts.hub);
  scraped.agent = exposed(texts.agent);
}, 120_000);

afterAll(async () => {
  for (const p of started) await p.kill();
  await nats?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('deploy/prometheus', () => {
  test('every argus_* metric the rules name is exported by a real hub or agent', () => {
    const rules = RULES.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(10);
    const named = new Set(rules.flatMap((r) => metricsOf(r.expr)));
    expect([...named].filter((n) => n.startsWith('argus_hub_')).length).toBeGreaterThan(5);
    expect([...named].filter((n) => n.startsWith('argus_agent_')).length).toBeGreaterThan(3);
    for (const name of named) {
      if (EXTERNAL.includes(name)) continue;
      const from = name.startsWith('argus_hub_') ? scraped.hub : scraped.agent;
      expect(
        from.has(name),
        `${name} is on the ${name.startsWith('argus_hub_') ? 'hub' : 'agent'}'s /metrics`,
      ).toBe(true);
    }
    // The readiness and heartbeat gauges carry values, not only their declaration.
    expect(texts.hub).toMatch(/^argus_hub_ready 1$/m);
    expect(texts.agent).toMatch(/^argus_agent_ready 1$/m);
    const age = Number(
      /^argus_hub_agent_heartbeat_age_seconds\{instance="argo-metrics"\} (\S+)$/m.exec(texts.hub)?.[1],
    );
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
    // The check itself can fail: a name no process exports is caught.
    expect(scraped.hub.has('argus_hub_no_such_metric_total')).toBe(false);
  });

  test('every rule has a severity and a summary; alerts are uniquely named', () => {
    const rules = RULES.groups.flatMap((g) => g.rules);
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
    }
  });

  test('the PrometheusRule holds exactly the groups of rules.yaml; the kustomization lists both manifests', () => {
    const [rule] = docsOf('prometheusrule.yaml') as unknown as { kind: string; spec: Groups }[];
    expect(rule?.kind).toBe('PrometheusRule');
    expect(rule?.spec).toEqual(RULES);
    const kustomization = parse(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
    };
    const manifests = readdirSync(DIR).filter(
      (f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && f !== 'rules.yaml',
    );
    expect(kustomization.resources.sort()).toEqual(manifests.sort());
  });

  test("the PodMonitors select the hub's and the agents' pods of deploy/k8s on their http port, as the rules' jobs", () => {
    const monitors = docsOf('podmonitor.yaml') as unknown as {
      kind: string;
      metadata: { name: string };
      spec: {
        namespaceSelector?: { matchNames: string[] };
        selector: { matchLabels: Record<string, string> };
        podMetricsEndpoints: {
          port: string;
          path: string;
          relabelings: { targetLabel: string; replacement: string }[];
        }[];
      };
    }[];
    const deployments = readdirSync(join(REPO_ROOT, 'deploy/k8s'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => {
        const file = join(REPO_ROOT, 'deploy/k8s', d.name, 'deployment.yaml');
        try {
          return [parse(readFileSync(file, 'utf8'))];
        } catch {
          return [];
        }
      }) as {
      metadata: { namespace: string };
      spec: {
        template: {
          metadata: { labels: Record<string, string> };
          spec: { containers: { ports?: { name: string }[] }[] };
        };
      };
    }[];
    const jobs = new Set(
      RULES.groups.flatMap((g) =>
        g.rules.flatMap((r) => [...r.expr.matchAll(/job="([^"]+)"/g)].map((m) => m[1])),
      ),
    );
    expect(monitors.map((m) => m.kind)).toEqual(['PodMonitor', 'PodMonitor']);
    for (const monitor of monitors) {
      const endpoint = monitor.spec.podMetricsEndpoints[0];
      expect(endpoint?.path).toBe('/metrics');
      const job = endpoint?.relabelings.find((r) => r.targetLabel === 'job')?.replacement;
      expect(jobs.has(job), `${monitor.metadata.name}: job ${job} is the rules'`).toBe(true);
      const selected = deployments.filter(
        (d) =>
          Object.entries(monitor.spec.selector.matchLabels).every(
            ([k, v]) => d.spec.template.metadata.labels[k] === v,
          ) && (monitor.spec.namespaceSelector?.matchNames ?? ['argus']).includes(d.metadata.namespace),
      );
      expect(selected.length, `${monitor.metadata.name} selects pods`).toBeGreaterThan(0);
      for (const d of selected)
        expect(d.spec.template.spec.containers.flatMap((c) => c.ports ?? []).map((p) => p.name)).toContain(
          endpoint?.port,
        );
    }
    // The hub's monitor selects the hub only, the agents' every agent variant (3 in deploy/k8s).
    const count = (name: string) =>
      deployments.filter((d) =>
        Object.entries(monitors.find((m) => m.metadata.name === name)?.spec.selector.matchLabels ?? {}).every(
          ([k, v]) => d.spec.template.metadata.labels[k] === v,
        ),
      ).length;
    expect(count('argus-hub')).toBe(1);
    expect(count('argus-agent')).toBe(3);
  });
});
