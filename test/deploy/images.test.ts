/**
 * The images' contents, assembled by deploy/images/assemble.sh as the Containerfiles copy them, run from
 * that folder alone: the hub (embedded chdb) and an agent (no chdb) on a real nats-server, with only
 * Node on PATH and the folder outside the repository (none of its node_modules reachable). An event
 * goes agent -> NATS -> hub -> ClickHouse and `argus query` of the hub folder reads it back.
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { buildScenario, runScenario, simulatorFor, startArgoCdApi } from '@argus/argocd-sim';
import { ArgusProcess, freePort, NatsServer, REPO_ROOT, waitFor } from '@argus/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const run = promisify(execFile);
const ASSEMBLE = join(REPO_ROOT, 'deploy/images/assemble.sh');
const TOKEN = 'image-test-token';
const INSTANCE = 'argo-image';

/** Only Node on PATH (the image's base provides it), nothing of this process's environment. */
const ENV = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, ARGUS_LOG_LEVEL: 'info' };

const work = mkdtempSync(join(tmpdir(), 'argus-images-'));
const roots = { hub: join(work, 'hub'), agent: join(work, 'agent') };
const argus = (variant: keyof typeof roots) => join(roots[variant], 'usr/local/bin/argus');

/** Every symbolic link under `dir`, with where it points. */
const links = (dir: string): { path: string; target: string }[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) return [{ path, target: realpathSync(path) }];
    return entry.isDirectory() ? links(path) : [];
  });

const hasChdbLibrary = (root: string) =>
  readdirSync(join(root, 'app/node_modules/.pnpm')).some((name) => name.startsWith('@chdb+lib-'));

const started: ArgusProcess[] = [];
let nats: NatsServer | undefined;

beforeAll(async () => {
  const t0 = Date.now();
  await Promise.all([
    run('bash', [ASSEMBLE, 'hub', roots.hub], { cwd: REPO_ROOT }),
    run('bash', [ASSEMBLE, 'agent', roots.agent], { cwd: REPO_ROOT }),
  ]);
  // pnpm deploy hard-links from its store: seconds, nothing worth caching (about 7 s on a loaded machine).
  console.log(`images assembled in ${Date.now() - t0} ms`);
}, 120_000);

afterAll(async () => {
  for (const p of started) await p.kill();
  await nats?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('image contents (deploy/images/assemble.sh)', () => {
  test('are self-contained: outside the repository, every link inside the folder; chdb only in the hub', () => {
    for (const root of Object.values(roots)) {
      expect(relative(REPO_ROOT, root).startsWith('..'), `${root} is outside the repository`).toBe(true);
      // Node looks for packages in node_modules of every folder above: there must be none.
      for (let dir = dirname(root); dir !== dirname(dir); dir = dirname(dir))
        expect(existsSync(join(dir, 'node_modules')), `${dir}/node_modules`).toBe(false);
      for (const { path, target } of links(root))
        expect(relative(root, target).startsWith('..'), `${path} -> ${target}`).toBe(false);
      expect(lstatSync(join(root, 'usr/local/bin/argus')).isSymbolicLink()).toBe(true);
      // Sources, tests and tsc's output of the command are pruned: the image runs its bundle.
      expect(readdirSync(join(root, 'app')).sort()).toEqual(
        ['README.md', 'bundle', 'node_modules', 'package.json', 'pnpm-lock.yaml'].sort(),
      );
      expect(realpathSync(join(root, 'usr/local/bin/argus'))).toBe(
        join(realpathSync(root), 'app/bundle/argus.js'),
      );
    }
    expect(hasChdbLibrary(roots.hub)).toBe(true);
    expect(hasChdbLibrary(roots.agent)).toBe(false);
  });

  test('the hub and an agent run from them alone: /readyz, and an event flows agent -> hub -> stored', async () => {
    nats = await NatsServer.start();
    const [httpPort, grpcPort, agentPort] = [await freePort(), await freePort(), await freePort()];
    const registry = join(work, 'registry.yaml');
    writeFileSync(
      registry,
      `clusters:\n  prod-eu: { environment: production }\ninstances:\n  ${INSTANCE}:\n    architecture: managed\n    clusters: [prod-eu]\n`,
    );
    const hub = new ArgusProcess(
      [
        'hub',
        '--nats',
        nats.url,
        '--data-dir',
        join(work, 'hub-data'),
        '--registry',
        registry,
        '--http-listen',
        `127.0.0.1:${httpPort}`,
        '--grpc-listen',
        `127.0.0.1:${grpcPort}`,
      ],
      { executable: argus('hub'), cleanEnv: true, env: ENV, cwd: work },
    );
    started.push(hub);
    // A timeout says what /readyz last answered and what the process logged (a run under full load
    // once timed out with neither).
    const ready = async (port: number, proc: ArgusProcess, what: string) => {
      let last = 'no answer';
      try {
        await waitFor(
          async () => {
            if (!proc.running) throw new Error(`${what} exited:\n${proc.output}`);
            const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
            if (res !== undefined) last = `${res.status} ${await res.text()}`;
            return res?.status === 200;
          },
          { what: `${what} /readyz 200`, timeoutMs: 60_000 },
        );
      } catch (error) {
        throw new Error(`${String(error)}; last /readyz: ${last}; its output:\n${proc.output}`);
      }
    };
    await ready(httpPort, hub, 'the hub of the hub image');
    // The embedded ClickHouse the hub loaded is the image's chdb library, not the repository's.
    const maps = readFileSync(`/proc/${hub.child.pid}/maps`, 'utf8');
    expect(maps).toContain(join(realpathSync(roots.hub), 'app/node_modules/.pnpm/@chdb+lib-'));
    expect(maps).not.toContain(REPO_ROOT);
    // The image's hub serves the dashboard's bundle; the libraries bundled into it are not in the image.
    const page = await (await fetch(`http://127.0.0.1:${httpPort}/`)).text();
    const main = /src="(\/assets\/v-[\w-]+\/main\.js)"/.exec(page)?.[1];
    expect(main, page).toBeDefined();
    const script = await fetch(`http://127.0.0.1:${httpPort}${main}`);
    expect([script.status, script.headers.get('content-type')]).toEqual([
      200,
      'text/javascript; charset=utf-8',
    ]);
    const stored = readdirSync(join(roots.hub, 'app/node_modules/.pnpm'));
    expect(stored.filter((name) => /^(preact|uplot|esbuild)@/.test(name))).toEqual([]);

    const scenario = buildScenario({
      instance: { name: INSTANCE },
      apps: [
        {
          name: 'podinfo',
          destination: { server: 'https://kubernetes.default.svc', namespace: 'podinfo' },
          source: {
            repoURL: 'https://github.com/stefanprodan/podinfo',
            path: 'kustomize',
            targetRevision: 'HEAD',
          },
        },
      ],
      steps: [{ at: '0s', sync: { app: 'podinfo', revision: '6b0e5a4c' } }],
    });
    const target = simulatorFor(scenario, new Date(Date.now() - 60_000));
    const api = await startArgoCdApi(target.sim, { token: TOKEN });
    try {
      const agent = new ArgusProcess(
        [
          'agent',
          '--instance',
          INSTANCE,
          '--source',
          'api',
          '--architecture',
          'managed',
          '--cluster',
          'prod-eu',
          '--argocd-url',
          api.url,
          '--argocd-token',
          TOKEN,
          '--nats',
          nats.url,
          '--spool-dir',
          join(work, 'spool'),
          '--listen',
          `127.0.0.1:${agentPort}`,
        ],
        { executable: argus('agent'), cleanEnv: true, env: ENV, cwd: work },
      );
      started.push(agent);
      await ready(agentPort, agent, 'the agent of the agent image');
      await runScenario(target, scenario, { instant: true });

      // Read back through the query API with the CLI of the hub image.
      let answer = '';
      await waitFor(
        async () => {
          const { stdout } = await run(
            argus('hub'),
            ['query', '--hub', `127.0.0.1:${grpcPort}`, '--subject-id', 'podinfo', '--output', 'json'],
            { env: ENV, cwd: work },
          );
          answer = stdout;
          const types = stdout
            .split('\n')
            .filter((line) => line.trim() !== '')
            .map((line) => (JSON.parse(line) as { event: { context: { type: string } } }).event.context.type);
          return types.some((t) => t.includes('.service.deployed.'));
        },
        { what: 'service.deployed of podinfo stored by the hub', timeoutMs: 30_000 },
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\nquery: ${answer}\nagent:\n${agent.output}\nhub:\n${hub.output}`);
      });
      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      expect(metrics).toMatch(/^argus_hub_stored_total\{type="[^"]*service\.deployed[^"]*"\} [1-9]/m);
    } finally {
      await api.close();
    }
  });
});
