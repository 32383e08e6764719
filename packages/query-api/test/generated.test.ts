import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { DoraGroupBy, Event, FILE_DESCRIPTOR_SET_BASE64, QueryServiceService } from '../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const committed = join(root, 'packages/query-api/src/gen');
const buf = join(root, 'node_modules/.bin/buf');

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });

describe('generated query API', () => {
  const fresh = mkdtempSync(join(tmpdir(), 'argus-proto-'));
  afterAll(() => rmSync(fresh, { recursive: true, force: true }));

  test('the committed code is what proto/generate.sh makes from proto/ now', () => {
    execFileSync('bash', [join(root, 'proto/generate.sh'), fresh], { stdio: 'pipe' });
    const relFresh = filesUnder(fresh)
      .map((f) => relative(fresh, f))
      .sort();
    const relCommitted = filesUnder(committed)
      .map((f) => relative(committed, f))
      .sort();
    expect(relCommitted, 'run `pnpm proto:generate` and commit the result').toEqual(relFresh);
    for (const file of relFresh) {
      expect(readFileSync(join(committed, file), 'utf8'), `${file} is stale: run pnpm proto:generate`).toBe(
        readFileSync(join(fresh, file), 'utf8'),
      );
    }
  });

  test('buf lint passes', () => {
    const run = () => execFileSync(buf, ['lint'], { cwd: join(root, 'proto'), stdio: 'pipe' });
    expect(run).not.toThrow();
  });

  // The baseline is the commit that introduced argus/v1: nothing since may break its wire format.
  test.runIf(existsSync(join(root, '.git')))('no breaking change since argus/v1 was introduced', () => {
    const introduced = execFileSync(
      'git',
      ['log', '--diff-filter=A', '--format=%H', '--', 'proto/argus/v1/query.proto'],
      { cwd: root, encoding: 'utf8' },
    )
      .trim()
      .split('\n')
      .filter((line) => line !== '')
      .pop();
    const against = `${join(root, '.git')}#ref=${introduced ?? 'HEAD'},subdir=proto`;
    const run = () =>
      introduced === undefined
        ? execFileSync(buf, ['build'], { cwd: join(root, 'proto'), stdio: 'pipe' })
        : execFileSync(buf, ['breaking', '--against', against], { cwd: join(root, 'proto'), stdio: 'pipe' });
    expect(run).not.toThrow();
  });

  test('the service and messages are usable and the descriptor set names the service', () => {
    expect(Object.keys(QueryServiceService)).toEqual([
      'searchEvents',
      'tailEvents',
      'getServiceTimeline',
      'getDoraMetrics',
      'getDeployments',
      'listInstances',
      'getStats',
      'listDeadLetters',
      'getDeadLetter',
      'replayDeadLetter',
      'runSql',
    ]);
    const event = Event.fromPartial({ id: 'a', type: 't', labels: { env: 'prod' }, timestamp: new Date(0) });
    expect(Event.decode(Event.encode(event).finish())).toEqual(event);
    expect(DoraGroupBy.DORA_GROUP_BY_CLUSTER).toBe(2);
    expect(Buffer.from(FILE_DESCRIPTOR_SET_BASE64, 'base64').toString('latin1')).toContain('argus.v1');
  });
});
