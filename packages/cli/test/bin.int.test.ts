import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));

const argus = (args: string[], input?: string) =>
  spawnSync(process.execPath, ['--conditions=argus-source', '--import', 'tsx', bin, ...args], {
    encoding: 'utf8',
    input,
    timeout: 30_000,
  });

test('the argus binary runs as a process: exit codes and streams', () => {
  const help = argus(['--help']);
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('Usage: argus <command>');

  const bad = argus(['validate', '-'], '{"context": 1}');
  expect(bad.status).toBe(1);
  expect(bad.stdout).toContain('context: must be an object');
  expect(bad.stderr).toBe('');
});
