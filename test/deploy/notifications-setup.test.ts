/**
 * The Argo CD Notifications set-up of deploy/argocd-notifications/README.md, run as written with
 * `kubectl patch --local` on a ConfigMap and a Secret that already hold a user's settings: nothing of
 * the user's may be replaced (issue 12 item 8: a Slack subscription disappeared in a trial), and the
 * result is what the simulated Argo CD of the other tests plays (`subscribeEveryApp`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNotificationsConfigMap, subscribeEveryApp } from '@argus/argocd-sim';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';

const DIR = fileURLToPath(new URL('../../deploy/argocd-notifications/', import.meta.url));
const README = readFileSync(join(DIR, 'README.md'), 'utf8');

const kubectlFound = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const USER_CM = `apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-notifications-cm
  namespace: argocd
data:
  context: |
    argocdUrl: https://argocd.acme.test
  service.slack: |
    token: $slack-token
  trigger.on-sync-succeeded: |
    - when: app.status.operationState.phase in ['Succeeded']
      send: [app-sync-succeeded]
  template.app-sync-succeeded: |
    message: Application {{.app.metadata.name}} has been successfully synced.
  subscriptions: |
    - recipients:
      - slack:deployments
      triggers:
      - on-sync-succeeded
`;

const USER_SECRET = `apiVersion: v1
kind: Secret
metadata:
  name: argocd-notifications-secret
  namespace: argocd
data:
  slack-token: eG94Yi0xMjM=
`;

type Manifest = { data?: Record<string, string>; stringData?: Record<string, string> };

/** The README's commands of one code block that follows `marker`, in order. */
const commandsAfter = (marker: string): string[] => {
  const from = README.indexOf(marker);
  expect(from, `README section ${marker}`).toBeGreaterThan(-1);
  const block = /```sh\n([\s\S]*?)```/.exec(README.slice(from));
  expect(block, `code block after ${marker}`).not.toBeNull();
  return (block?.[1] ?? '').split('\n').filter((l) => l.length > 0 && !l.startsWith('#'));
};

/** Splits a README command line into arguments (single-quoted arguments kept whole). */
const words = (line: string): string[] =>
  [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');

/**
 * Runs one README command against local files instead of the cluster: `kubectl -n argocd patch
 * configmap|secret NAME ...` becomes `kubectl patch --local -f FILE ... -o yaml`, `./subscribe.sh ...`
 * gets `--local FILE`. The file is replaced by the result, as the cluster's object would be.
 */
const runLocally = (line: string, files: { configmap: string; secret: string }): void => {
  const argv = words(line);
  let result: string;
  if (argv[0] === 'kubectl') {
    expect(argv.slice(0, 4)).toEqual(['kubectl', '-n', 'argocd', 'patch']);
    const kind = argv[4] as 'configmap' | 'secret';
    expect(['configmap', 'secret']).toContain(kind);
    result = execFileSync(
      'kubectl',
      ['patch', '--local', '-f', files[kind], ...argv.slice(6), '-o', 'yaml'],
      {
        cwd: DIR,
        encoding: 'utf8',
      },
    );
    writeFileSync(files[kind], result);
  } else {
    expect(argv[0]).toBe('./subscribe.sh');
    result = execFileSync(join(DIR, 'subscribe.sh'), ['--local', files.configmap, ...argv.slice(1)], {
      cwd: DIR,
      encoding: 'utf8',
    });
    writeFileSync(files.configmap, result);
  }
};

const setUp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'argus-notifications-'));
  const files = { configmap: join(dir, 'cm.yaml'), secret: join(dir, 'secret.yaml') };
  writeFileSync(files.configmap, USER_CM);
  writeFileSync(files.secret, USER_SECRET);
  return files;
};
const read = (file: string): Manifest => parse(readFileSync(file, 'utf8')) as Manifest;

describe.each([
  ['## Application mode', 'argocd-notifications-applications-cm.yaml'],
  ['## Rendering CDEvents in Argo CD', 'argocd-notifications-cm.yaml'],
])('the README set-up (%s) on an Argo CD with settings of its own', (section, patchFile) => {
  test("keeps every key of the user, adds Argus's, and subscribes every trigger beside the user's subscription", () => {
    expect(kubectlFound, 'kubectl is not on PATH: run deploy/scripts/setup.sh').toBe(true);
    const commands = commandsAfter(section);
    expect(commands.some((c) => c.includes(patchFile))).toBe(true);
    const files = setUp();
    for (const command of commands) runLocally(command, files);

    const before = (parse(USER_CM) as Manifest).data ?? {};
    const after = read(files.configmap).data ?? {};
    const shipped = (parse(readFileSync(join(DIR, patchFile), 'utf8')) as Manifest).data ?? {};
    for (const [key, value] of Object.entries(before)) {
      if (key !== 'subscriptions') expect(after[key], key).toBe(value);
    }
    for (const [key, value] of Object.entries(shipped)) expect(after[key], key).toBe(value);

    const subscriptions = parse(after.subscriptions ?? '') as { recipients: string[]; triggers: string[] }[];
    expect(subscriptions[0]).toEqual({ recipients: ['slack:deployments'], triggers: ['on-sync-succeeded'] });
    // What the simulated Argo CD of the other tests plays is what this set-up leaves.
    const argus = subscribeEveryApp(parseNotificationsConfigMap(readFileSync(join(DIR, patchFile), 'utf8')));
    expect(subscriptions.slice(1)).toEqual(argus.subscriptions);
    expect(argus.subscriptions[0]?.triggers.length).toBeGreaterThan(0);

    const secret = read(files.secret);
    expect(secret.data?.['slack-token']).toBe('eG94Yi0xMjM=');
    expect(Object.keys(secret.stringData ?? {})).toEqual(['argus-webhook-token']);
  });

  test("run twice it changes nothing more; --remove gives the user's subscriptions back as they were", () => {
    const files = setUp();
    const commands = commandsAfter(section);
    for (const command of commands) runLocally(command, files);
    const once = readFileSync(files.configmap, 'utf8');
    for (const command of commands) runLocally(command, files);
    expect(readFileSync(files.configmap, 'utf8')).toBe(once);

    runLocally('./subscribe.sh --remove', files);
    expect(read(files.configmap).data?.subscriptions).toBe((parse(USER_CM) as Manifest).data?.subscriptions);
  });
});

describe('subscribe.sh on a ConfigMap without subscriptions', () => {
  test('creates the key with the Argus entry only, and --remove deletes the key again', () => {
    const files = setUp();
    writeFileSync(files.configmap, USER_CM.replace(/ {2}subscriptions: \|\n(?: {4}.*\n)+/, ''));
    runLocally('./subscribe.sh argocd-notifications-applications-cm.yaml', files);
    const subscriptions = parse(read(files.configmap).data?.subscriptions ?? '') as {
      recipients: string[];
    }[];
    expect(subscriptions.map((s) => s.recipients)).toEqual([['argus']]);
    runLocally('./subscribe.sh --remove', files);
    expect(read(files.configmap).data).not.toHaveProperty('subscriptions');
    expect(read(files.configmap).data?.['service.slack']).toBe('token: $slack-token\n');
  });

  test('refuses a patch file without triggers, naming it', () => {
    const files = setUp();
    expect(() =>
      execFileSync(join(DIR, 'subscribe.sh'), ['--local', files.configmap, files.secret], { stdio: 'pipe' }),
    ).toThrow(/defines no trigger/);
  });
});
