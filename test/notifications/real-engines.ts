/**
 * `pnpm check:notifications`: the shipped Notifications ConfigMaps through the real engines of Argo CD
 * Notifications (Go text/template with sprig, and expr 1.8.9 as Argo CD 2.4 vendors it) and through the
 * simulator's emulation of them (packages/argocd-sim/src/notifications.ts), on every Application the
 * simulated releases write in the scenarios and on the captured bodies of a live Argo CD
 * (../shared/argocd-fixtures, when present). Every template body and every trigger's `when` and
 * `oncePer` must come out the same. Needs Go and Debian's golang-github-masterminds-sprig-dev and
 * golang-github-antonmedv-expr-dev; not part of `pnpm test` (the emulation is what the tests use).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ARGOCD_VERSIONS,
  goFormat,
  loadScenario,
  type NotificationsConfig,
  parseNotificationsConfigMap,
  runScenario,
  type Scenario,
  simulatorFor,
  templateVars,
} from '@argus/argocd-sim';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GOCODE = '/usr/share/gocode';

const build = (): string => {
  const gopath = mkdtempSync(join(tmpdir(), 'argus-real-engines-'));
  const dir = join(gopath, 'src', 'realengines');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.go'), readFileSync(join(ROOT, 'test/notifications/real-engines/main.go')));
  const binary = join(gopath, 'realengines');
  const result = spawnSync('go', ['build', '-o', binary, '.'], {
    cwd: dir,
    env: {
      ...process.env,
      GO111MODULE: 'off',
      GOPATH: `${gopath}:${GOCODE}`,
      GOCACHE: join(gopath, 'cache'),
    },
    encoding: 'utf8',
  });
  if (result.error !== undefined || result.status !== 0) {
    console.error(
      `check:notifications: cannot build the real engines (${result.error?.message ?? result.stderr.trim()}).\n` +
        'Install them: apt-get install golang-go golang-github-masterminds-sprig-dev golang-github-antonmedv-expr-dev',
    );
    process.exit(2);
  }
  return binary;
};

interface Request {
  readonly id: string;
  readonly kind: 'template' | 'expr';
  readonly text: string;
  readonly vars: Record<string, unknown>;
  /** What the emulation gives: the rendered text or the printed value, or an error. */
  readonly emulated: { value?: string; error?: string };
}

const emulate = (run: () => string): { value?: string; error?: string } => {
  try {
    return { value: run() };
  } catch (error) {
    return { error: (error as Error).message };
  }
};

const requests = (
  config: NotificationsConfig,
  cm: string,
  app: Record<string, unknown>,
  where: string,
): Request[] => {
  const out: Request[] = [];
  for (const [name, template] of config.templates) {
    for (const [service, hook] of template.webhook) {
      const vars = templateVars(config, app, service);
      out.push({
        id: `${cm} ${where} template ${name}`,
        kind: 'template',
        text: hook.body.source,
        vars,
        emulated: emulate(() => hook.body.execute(vars)),
      });
    }
  }
  for (const [name, conditions] of config.triggers) {
    conditions.forEach((condition, index) => {
      const vars = { app };
      out.push({
        id: `${cm} ${where} trigger ${name}[${index}] when`,
        kind: 'expr',
        text: condition.when.source,
        vars,
        emulated: emulate(() => goFormat(condition.when.evaluate(vars))),
      });
      const oncePer = condition.oncePer;
      if (oncePer !== undefined) {
        out.push({
          id: `${cm} ${where} trigger ${name}[${index}] oncePer`,
          kind: 'expr',
          text: oncePer.source,
          vars,
          emulated: emulate(() => goFormat(oncePer.evaluate(vars))),
        });
      }
    });
  }
  return out;
};

/** Every Application the simulated releases write while playing the scenarios. */
const simulatedApps = async (): Promise<{ app: Record<string, unknown>; where: string }[]> => {
  const fidelity = await loadScenario(join(ROOT, 'packages/argocd-sim/scenarios/fidelity.yaml'));
  const basic = await loadScenario(join(ROOT, 'packages/argocd-sim/scenarios/basic.yaml'));
  const apps: { app: Record<string, unknown>; where: string }[] = [];
  for (const version of ARGOCD_VERSIONS) {
    for (const scenario of [basic, fidelity]) {
      const played: Scenario =
        version === '2.8'
          ? {
              ...scenario,
              apps: scenario.apps.filter((a) => a.sourceHydrator === undefined),
              steps: scenario.steps.filter((s) => !JSON.stringify(s).includes('"cart"')),
            }
          : scenario;
      const target = simulatorFor({ ...played, instance: { ...played.instance, version } });
      target.sim.subscribe((e) => {
        if (e.type !== 'DELETED')
          apps.push({
            app: e.app as unknown as Record<string, unknown>,
            where: `${version} ${scenario.instance.name} rv ${e.resourceVersion}`,
          });
      });
      await runScenario(target, { ...played, instance: { ...played.instance, version } }, { instant: true });
    }
  }
  return apps;
};

const capturedApps = (): { app: Record<string, unknown>; where: string }[] => {
  const dir = join(ROOT, '..', 'shared', 'argocd-fixtures', 'cdviz-notifications-captured');
  if (!existsSync(dir)) {
    console.log(`check:notifications: ${dir} is absent; only the simulated Applications are checked`);
    return [];
  }
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({
      app: (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { app: Record<string, unknown> }).app,
      where: `captured ${f}`,
    }));
};

const main = async () => {
  const binary = build();
  const cms = ['argocd-notifications-cm.yaml', 'argocd-notifications-applications-cm.yaml'];
  const apps = [...(await simulatedApps()), ...capturedApps()];
  const all: Request[] = [];
  for (const cm of cms) {
    const config = parseNotificationsConfigMap(
      readFileSync(join(ROOT, 'deploy/argocd-notifications', cm), 'utf8'),
    );
    for (const { app, where } of apps) all.push(...requests(config, cm, app, where));
  }
  const input = all
    .map((r) => JSON.stringify({ id: r.id, kind: r.kind, text: r.text, vars: r.vars }))
    .join('\n');
  const answers = execFileSync(binary, { input, maxBuffer: 1024 * 1024 * 1024, encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { id: string; value?: string; error?: string });
  let differ = 0;
  const kinds = new Map<string, number>();
  answers.forEach((real, i) => {
    const mine = all[i]?.emulated ?? {};
    const same =
      real.error === undefined
        ? mine.error === undefined && mine.value === (real.value ?? '')
        : mine.error !== undefined;
    if (!same) {
      differ++;
      const kind = `${real.id.split(' ')[0]} ${real.id.split(' ').slice(-2).join(' ')} real:${real.error === undefined ? 'ok' : 'error'} emulated:${mine.error === undefined ? 'ok' : 'error'}`;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      if (differ <= 10) {
        console.log(
          `DIFFERS: ${real.id}\n  real:     ${JSON.stringify(real.error ?? real.value)}\n  emulated: ${JSON.stringify(mine.error ?? mine.value)}`,
        );
      }
    }
  });
  for (const [kind, count] of kinds) console.log(`  ${count} x ${kind}`);
  console.log(
    `check:notifications: ${answers.length} renderings and evaluations (${cms.length} ConfigMaps x ${apps.length} Applications); ${differ} differ`,
  );
  process.exit(differ === 0 ? 0 : 1);
};

await main();
