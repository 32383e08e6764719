import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OptionsError } from '@argus/runtime';
import { afterAll, beforeAll, expect, test } from 'vitest';

/**
 * The `argus` command as shipped: the bundle `pnpm build` writes (packages/cli/bundle), which the
 * images and the demo run. The rest of the suite runs the command from its sources; this runs the
 * bundle itself, where its own copies of the workspace packages meet the hub's (loaded as a package).
 */
const BUNDLE = fileURLToPath(new URL('../../packages/cli/bundle/argus.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'argus-bundle-'));
const argus = (...args: string[]) =>
  spawnSync(process.execPath, [BUNDLE, ...args], { encoding: 'utf8', cwd: work, timeout: 60_000, env: {} });

beforeAll(() => {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run pnpm build`);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

test('names its version and each command, as the sources do', () => {
  const version = JSON.parse(
    readFileSync(fileURLToPath(new URL('../../packages/cli/package.json', import.meta.url)), 'utf8'),
  ) as { version: string };
  const run = argus('--version');
  expect([run.status, run.stdout]).toEqual([0, `argus ${version.version} (node ${process.versions.node})\n`]);
  const help = argus('agent', '--help');
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('Usage: argus agent --instance <id>');
});

test("an option the hub refuses is a usage error (exit 2), though the hub's package throws it", () => {
  const run = argus(
    'hub',
    '--nats',
    'nats://127.0.0.1:1',
    '--data-dir',
    join(work, 'data'),
    '--retention',
    '36h',
  );
  expect(run.stderr).toContain('argus hub: --retention must be whole days (e.g. 400d), got 1.5 days');
  expect(run.status).toBe(2);
});

test('OptionsError.is knows an OptionsError of another copy of the package, and nothing else', () => {
  expect(OptionsError.is(new OptionsError('bad'))).toBe(true);
  // What the hub's copy throws, as the bundle sees it: another class with the same mark.
  const otherCopy = Object.assign(new Error('bad'), { [Symbol.for('argus.OptionsError')]: true });
  expect(otherCopy instanceof OptionsError).toBe(false);
  expect(OptionsError.is(otherCopy)).toBe(true);
  for (const other of [new Error('bad'), new TypeError('bad'), 'bad', undefined, null])
    expect(OptionsError.is(other)).toBe(false);
});
