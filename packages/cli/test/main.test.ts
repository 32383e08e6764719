import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, serialize } from '@argus/cdevents';
import { describe, expect, test } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../src/command.js';
import { type CommandIO, main } from '../src/index.js';
import { COMMANDS } from '../src/main.js';
import { VERSION } from '../src/version.js';

const run = async (argv: string[], stdin = '') => {
  let out = '';
  let err = '';
  const io: CommandIO = {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    readStdin: async () => Buffer.from(stdin),
    env: {},
  };
  const code = await main(argv, io);
  return { code, out, err };
};

const deployed = createEvent({
  type: 'service.deployed',
  source: '/argocd/prod/podinfo',
  subject: {
    id: 'podinfo',
    content: { environment: { id: 'prod' }, artifactId: 'pkg:oci/podinfo@sha256%3Aabc' },
  },
});

describe('argus CLI', () => {
  test('no command prints the overview and exits 2', async () => {
    const { code, out } = await run([]);
    expect(code).toBe(EXIT_USAGE);
    expect(out).toContain('Usage: argus <command>');
    expect(out).toContain('validate');
  });

  test('--help lists every command and exits 0', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(EXIT_OK);
    expect(out).toMatch(/version\s+print the Argus version/);
  });

  test('every command loads on demand, under its listed name and summary, and prints its help', async () => {
    for (const entry of COMMANDS) {
      const command = await entry.load();
      expect({ name: command.name, summary: command.summary }).toEqual({
        name: entry.name,
        summary: entry.summary,
      });
      const { code, out } = await run([entry.name, '--help']);
      expect(code).toBe(EXIT_OK);
      expect(out).toContain(`Usage: argus ${entry.name}`);
    }
  });

  test('version prints the package version, also as JSON', async () => {
    expect((await run(['version'])).out).toContain(`argus ${VERSION}`);
    const json = JSON.parse((await run(['version', '--json'])).out) as { version: string };
    expect(json.version).toBe(VERSION);
  });

  test('an unknown command names itself and exits 2', async () => {
    const { code, err } = await run(['frobnicate']);
    expect(code).toBe(EXIT_USAGE);
    expect(err).toContain('unknown command "frobnicate"');
    expect((await run(['qurey'])).err).toBe(
      'argus: unknown command "qurey"; did you mean "query"?\nRun "argus --help" for the commands.\n',
    );
  });

  test('an unknown flag prints one line and where the help is, and exits 2', async () => {
    const { code, err } = await run(['validate', '--bogus', 'x.json']);
    expect(code).toBe(EXIT_USAGE);
    expect(err).toBe(
      'argus validate: unknown option --bogus\nRun "argus validate --help" for its options.\n',
    );
    const near = await run(['validate', '--max-byte', '10', 'x.json']);
    expect(near.err.split('\n')[0]).toBe(
      'argus validate: unknown option --max-byte; did you mean "--max-bytes"?',
    );
  });

  test('command --help and help <command> print the same help', async () => {
    const a = await run(['validate', '--help']);
    const b = await run(['help', 'validate']);
    expect(a.code).toBe(EXIT_OK);
    expect(a.out).toBe(b.out);
    expect(a.out).toContain('--max-bytes');
  });

  test('validate accepts a valid event file and reports its type', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'argus-cli-'));
    const file = join(dir, 'ok.json');
    await writeFile(file, serialize(deployed));
    const { code, out } = await run(['validate', file]);
    expect(code).toBe(EXIT_OK);
    expect(out).toContain('valid dev.cdevents.service.deployed.0.3.0 (CDEvents 0.5.1');
  });

  test('validate lists every issue of an invalid event from stdin and exits 1', async () => {
    const broken = JSON.parse(serialize(deployed)) as { subject: { content: Record<string, unknown> } };
    delete broken.subject.content.artifactId;
    broken.subject.content.extra = true;
    const { code, out } = await run(['validate', '-'], JSON.stringify(broken));
    expect(code).toBe(EXIT_FAILURE);
    expect(out).toContain('invalid (schema)');
    expect(out).toContain('subject.content.artifactId: is required');
    expect(out).toContain('subject.content.extra: is not allowed here');
  });

  test('validate --output json gives one verdict per line', async () => {
    const { code, out } = await run(['validate', '--output', 'json', '-'], '{not json');
    expect(code).toBe(EXIT_FAILURE);
    const verdict = JSON.parse(out.trim()) as { valid: boolean; reason: string };
    expect(verdict).toMatchObject({ valid: false, reason: 'malformed-json' });
  });

  test('validate refuses bad option values with exit 2', async () => {
    expect((await run(['validate', '--max-bytes', 'lots', '-'])).code).toBe(EXIT_USAGE);
    expect((await run(['validate', '--output', 'yaml', '-'])).code).toBe(EXIT_USAGE);
    expect((await run(['validate'])).code).toBe(EXIT_USAGE);
  });

  test('validate reports an unreadable file without a stack trace', async () => {
    const { code, err } = await run(['validate', '/nonexistent/argus/event.json']);
    expect(code).toBe(EXIT_FAILURE);
    expect(err).toContain('cannot read');
    expect(err).not.toContain('    at ');
  });
});
