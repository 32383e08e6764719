import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '@argus/testkit';
import { expect, test } from 'vitest';
import { COMMANDS } from '../src/main.js';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

/** Shell lines of the README's code blocks, continuation lines joined, comments dropped. */
const shellLines = (): string[] =>
  [...readme.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)]
    .flatMap((block) => (block[1] ?? '').replace(/\\\n\s*/g, ' ').split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '');

test('the README never pipes pnpm argus: pnpm prints its banner on stdout', () => {
  const piped = shellLines().filter((line) => /\bpnpm\s+(?!--silent|-s\b)(?:run\s+)?argus\b.*\|/.test(line));
  expect(piped).toEqual([]);
});

test("the README's argus command lines use real commands and flags", async () => {
  const lines = shellLines().filter((line) => /^(?:pnpm (?:--silent )?)?argus /.test(line));
  expect(lines.length).toBeGreaterThan(8);
  for (const line of lines) {
    const words =
      line
        .split('|')[0]
        ?.trim()
        .split(/\s+/)
        .slice(line.startsWith('argus') ? 1 : 2) ?? [];
    const [name, ...args] = words.filter((w) => w !== '--silent' && w !== 'argus');
    const entry = COMMANDS.find((c) => c.name === name);
    expect(entry, line).toBeDefined();
    const command = await (entry as (typeof COMMANDS)[number]).load();
    expect(
      () => parseArgs({ args, options: command.options, allowPositionals: true, strict: true }),
      line,
    ).not.toThrow();
  }
});
