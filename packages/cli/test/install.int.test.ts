import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent } from '@argus/cdevents';
import { REPO_ROOT } from '@argus/testkit';
import { afterAll, expect, test } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'argus-cli-install-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * `argus` on its own, as the README installs it: `pnpm deploy` of @argus/cli (its workspace packages
 * and production dependencies in one folder), then `npm install -g` of that folder into a prefix,
 * which links `bin/argus`. It runs from any folder and reads paths from the current directory.
 */
test('argus installs on its own and runs from any folder with paths relative to it', () => {
  const run = (command: string, args: string[], cwd = REPO_ROOT) =>
    execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 240_000,
    });
  run(join(REPO_ROOT, 'node_modules/.bin/tsc'), ['-b', 'packages/cli']);
  const bundle = join(root, 'argus-cli');
  run('pnpm', ['--filter', '@argus/cli', 'deploy', '--legacy', '--prod', '--prefer-offline', bundle]);
  const prefix = join(root, 'prefix');
  run('npm', ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', bundle]);

  const work = join(root, 'elsewhere', 'ci');
  mkdirSync(join(work, 'events'), { recursive: true });
  const event = createEvent({
    type: 'change.merged',
    source: '/ci/install',
    subject: { id: 'pr-1', content: {} },
  });
  writeFileSync(join(work, 'events', 'merged.json'), JSON.stringify(event));
  const argus = (args: string[]) =>
    spawnSync(join(prefix, 'bin', 'argus'), args, {
      cwd: work,
      encoding: 'utf8',
      // No repository around it: only the installed folder and node.
      env: { PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`, HOME: root },
      timeout: 30_000,
    });
  const version = argus(['--version']);
  expect(version.stderr).toBe('');
  expect(version.stdout).toMatch(/^argus \d+\.\d+\.\d+ \(node /);
  const valid = argus(['validate', 'events/merged.json', './events/merged.json']);
  expect(valid.status).toBe(0);
  expect(valid.stdout).toContain('events/merged.json: valid dev.cdevents.change.merged');
  expect(argus(['validate', 'events/absent.json']).stderr).toContain('events/absent.json: cannot read');
}, 300_000);
