import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ArgusProcess, runArgus, waitFor } from '../src/index.js';

const sleep = (ms: number) => new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms));
const UNTIL_SIGTERM = fileURLToPath(new URL('./fixtures/until-sigterm.ts', import.meta.url));

describe('runArgus', () => {
  test('runs the CLI from source to its end: exit code, stdout and stderr apart, stdin from input', async () => {
    const help = await runArgus(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: argus <command>');

    const bad = await runArgus(['validate', '-'], { input: '{"context": 1}' });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('context: must be an object');
    expect(bad.stderr).toBe('');

    const unknown = await runArgus(['no-such-command']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).not.toBe('');
  });

  test('env reaches the command', async () => {
    const unreachable = await runArgus(['stats', '--timeout', '2s'], {
      env: { ARGUS_HUB: '127.0.0.1:1', ARGUS_QUERY_TOKEN: 'x' },
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach the hub at 127.0.0.1:1');
  });

  test('a command still running after timeoutMs is killed: code null', async () => {
    // Node and tsx alone take longer than 1 ms to start.
    expect((await runArgus(['--help'], { timeoutMs: 1 })).code).toBeNull();
  });
});

describe('ArgusProcess', () => {
  test('the CLI by default: output kept, exit awaited', async () => {
    const help = new ArgusProcess(['--help']);
    expect((await help.exited).code).toBe(0);
    // 'exit' can come before the last output: wait for it.
    await waitFor(() => help.output.includes('Usage: argus <command>'), { what: 'the help text' });
    expect(help.running).toBe(false);
  });

  test('stop() sends SIGTERM and expects exit 0; kill(signal) waits for the exit', async () => {
    const clean = new ArgusProcess(['0'], { script: UNTIL_SIGTERM });
    await waitFor(() => clean.output.includes('ready'), { what: 'the process to start' });
    expect(clean.running).toBe(true);
    await clean.stop();
    expect((await clean.exited).code).toBe(0);

    const killed = new ArgusProcess(['0'], { script: UNTIL_SIGTERM });
    await waitFor(() => killed.output.includes('ready'), { what: 'the process to start' });
    await killed.kill();
    expect((await killed.exited).signal).toBe('SIGKILL');
    await killed.kill(); // already gone: returns at once
  });

  test('stop() rejects with the output when the exit code is not 0', async () => {
    const failing = new ArgusProcess(['3'], { script: UNTIL_SIGTERM, env: { GREETING: 'hello' } });
    await waitFor(() => failing.output.includes('ready'), { what: 'the process to start' });
    const error = await failing.stop().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('process exited 3 on SIGTERM');
    expect((error as Error).message).toContain('hello, will exit 3 on SIGTERM');
  });

  test('died rejects with the output when the process exits unasked, and never settles after kill or stop', async () => {
    const unasked = new ArgusProcess(['--help']);
    const error = await unasked.died.catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^argus exited unexpectedly \(0\):\n/);

    const asked = new ArgusProcess(['0'], { script: UNTIL_SIGTERM });
    await waitFor(() => asked.output.includes('ready'), { what: 'the process to start' });
    const race = Promise.race([asked.died, asked.stop().then(() => 'stopped')]);
    expect(await race).toBe('stopped');
    const settled = await Promise.race([
      asked.died.then(
        () => 'settled',
        () => 'settled',
      ),
      sleep(200),
    ]);
    expect(settled).toBe('pending');
  });
});
