import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEADERS, HeaderList, rawSubject } from '@argus/bus';
import { createEvent } from '@argus/cdevents';
import { HUB_OPTIONS, type RunningHub, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import { captureLogs, NatsServer, waitFor } from '@argus/testkit';
import { jetstream } from '@nats-io/jetstream';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser, openPage, shot } from './browser.js';

/**
 * `/dead-letters` in Debian's chromium against a real hub (embedded chdb) and nats-server: dead
 * letters made the way agents make them (a cluster the registry does not give the instance, bytes
 * that are not JSON, bytes that are not text), read, and one replayed after the registry fix.
 * The screenshot goes to docs/images only with ARGUS_UPDATE_SCREENSHOTS=1 (as dashboard.browser.test.ts).
 */
const TOKEN = 'dashboard-secret';
const ADMIN_TOKEN = 'dashboard-admin';
const logs = captureLogs({ level: 'info' });

let server: NatsServer;
let running: RunningHub;
let dir: string;
let registryFile: string;
let browser: Browser;
let base: string;

const registry = (clusters: string[]) =>
  [
    'strict: true',
    'clusters:',
    ...clusters.map((c) => `  ${c}: { environment: production }`),
    'instances:',
    '  argo-eu:',
    `    clusters: [${clusters.join(', ')}]`,
    '',
  ].join('\n');

const deployed = createEvent({
  type: 'service.deployed',
  id: 'spoke-2-deployed',
  source: '/argocd/spoke-2/podinfo',
  subject: { id: 'podinfo', content: { environment: { id: 'spoke-2/podinfo' }, artifactId: 'pkg:oci/p@1' } },
});
/** DEAD_LETTER_PAGE of packages/web/src/pages/dead-letters.tsx (the page is not importable in node). */
const DEAD_LETTER_PAGE = 50;
const HTML = '<img src=x onerror="window.pwned=1"> not json';
const BINARY = Uint8Array.from([0xff, 0xfe, 0x00, 0x41, 0x80, 0x0a]);

/** Opens `/dead-letters`, answers the token prompt with `token`, and waits for the table. */
const signIn = async (page: Page, errors: string[], token = TOKEN): Promise<void> => {
  await page.goto(`${base}/dead-letters`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Use this token' }).click();
  await page.getByRole('table', { name: 'Dead letters' }).waitFor();
  // Chromium logs the first, token-less request's 401 (the prompt's cause): the only error allowed.
  expect(errors.filter((e) => !e.includes('401 (Unauthorized)'))).toEqual([]);
  errors.length = 0;
};

const row = (page: Page, sequence: number) =>
  page.getByRole('table', { name: 'Dead letters' }).locator(`tr[data-sequence="${sequence}"]`);

beforeAll(async () => {
  server = await NatsServer.start();
  dir = mkdtempSync(join(tmpdir(), 'argus-dashboard-dlq-'));
  registryFile = join(dir, 'registry.yaml');
  writeFileSync(registryFile, registry(['prod-eu']));
  running = await runHub(
    parseOptions(HUB_OPTIONS, {
      flags: {
        nats: server.url,
        dataDir: join(dir, 'data'),
        registry: registryFile,
        httpListen: '127.0.0.1:0',
        grpcListen: '127.0.0.1:0',
        apiTokens: `alice=${TOKEN}`,
        adminTokens: `oncall=${ADMIN_TOKEN}`,
        batchMaxWait: '20ms',
        logLevel: 'info',
      },
      env: {},
    }),
    logs.destination,
  );
  base = `http://127.0.0.1:${running.http.address.port}`;
  const js = jetstream(running.nc);
  const subject = rawSubject('argo-eu', 'service', 'deployed');
  // 1: a cluster the registry does not give argo-eu yet (fixable); 2: markup that is not JSON;
  // 3: bytes that are not UTF-8.
  const h = new HeaderList();
  h.set(HEADERS.cluster, 'spoke-2');
  await js.publish(subject, JSON.stringify(deployed), { headers: h });
  await js.publish(subject, HTML);
  await js.publish(subject, BINARY);
  await waitFor(async () => running.hub.stats().deadLetters >= 3, { what: 'three dead letters' });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await running?.shutdown.shutdown('test done');
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('/dead-letters in chromium', () => {
  test('lists the refused messages with their reasons; the bytes on demand, as escaped text or hex', async () => {
    const { page, errors } = await openPage(browser);
    await signIn(page, errors);
    expect(await page.getByRole('link', { name: 'Dead letters' }).getAttribute('aria-current')).toBe('page');
    expect(await page.getByTestId('dead-letter-total').textContent()).toBe('3');
    expect(await row(page, 1).textContent()).toContain('cluster-not-allowed');
    expect(await row(page, 1).textContent()).toContain('RegistryPolicy');
    expect(await row(page, 1).textContent()).toContain('cdevents.raw.argo-eu.service.deployed');
    expect(await row(page, 2).textContent()).toContain('malformed-json');
    expect(await row(page, 3).textContent()).toContain(`${BINARY.length} B`);

    // Markup stays text: shown, never run.
    await row(page, 2).getByRole('button').click();
    const bytes = page.getByTestId('dead-letter-bytes');
    await bytes.waitFor();
    expect(await bytes.textContent()).toBe(HTML);
    expect(await page.locator('pre img').count()).toBe(0);
    expect(await page.evaluate('window.pwned')).toBeUndefined();

    // Not UTF-8: hex (and base64 on demand), text not offered.
    await row(page, 3).getByRole('button').click();
    await page.getByRole('note').filter({ hasText: 'Not valid UTF-8: shown as hex' }).waitFor();
    expect(await bytes.textContent()).toContain('ff fe 00 41 80 0a');
    expect(await page.getByRole('button', { name: 'text', exact: true }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'base64', exact: true }).click();
    // Preact renders a state change after the click's event: poll, never read at once.
    await expect.poll(() => bytes.textContent()).toBe(Buffer.from(BINARY).toString('base64'));

    // The fixable one, opened by keyboard: reason, detail, headers, the event as sent.
    await row(page, 1).getByRole('button').focus();
    await page.keyboard.press('Enter');
    const panel = page.getByRole('region', { name: 'Dead letter 1' });
    await panel.waitFor();
    expect(await row(page, 1).getByRole('button').getAttribute('aria-expanded')).toBe('true');
    // Focus moves to the opened panel (an effect, after the paint).
    await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('dead-letter-1');
    // The panel shows "Loading…" first; the detail's element waits for the answer.
    expect(await page.getByTestId('dead-letter-detail').textContent()).toContain('spoke-2');
    expect(await panel.textContent()).toContain('cluster-not-allowed (RegistryPolicy)');
    const headers = page.getByRole('table', { name: 'Original headers' });
    expect(await headers.locator('tr', { hasText: HEADERS.cluster }).locator('td').textContent()).toBe(
      'spoke-2',
    );
    // Only the original's: the DLQ publish's own message id and expected stream are left out.
    expect(await headers.locator('tr').count()).toBe(1);
    expect(JSON.parse((await bytes.textContent()) ?? '')).toEqual(deployed);
    await shot(page, 'dead-letters');
    expect(errors, errors.join('\n')).toEqual([]);
    await page.close();
  });

  test('replay: refused to a query token, then with an admin token after the fix, once; the event is stored', async () => {
    const { page, errors } = await openPage(browser);
    await signIn(page, errors);
    await row(page, 1).getByRole('button').click();
    await page.getByRole('button', { name: 'Replay…' }).click();
    // Cancel leaves it be.
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Replay…' }).click();
    await page.getByRole('button', { name: 'Replay now' }).click();
    const denied = page.getByRole('alert');
    await denied.waitFor();
    expect(await denied.textContent()).toContain('Permission denied: alice is a query token');
    expect(running.hub.stats().stored).toBe(0);
    // Chromium logs the refused POST: the 403 the test asked for is the only error.
    expect(errors.filter((e) => !e.includes('403 (Forbidden)'))).toEqual([]);
    errors.length = 0;

    // The fix: the registry now gives argo-eu spoke-2 (the hub reloads it without a restart).
    writeFileSync(registryFile, registry(['prod-eu', 'spoke-2']));
    await waitFor(async () => logs.find((l) => l.msg === 'registry reloaded') !== undefined, {
      what: 'the registry reload',
      timeoutMs: 20_000,
    });
    await page.getByRole('button', { name: 'Use an admin token' }).click();
    await page.getByLabel('API token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Use this token' }).click();
    await row(page, 1).getByRole('button').click();
    await page.getByRole('button', { name: 'Replay…' }).click();
    await page.getByRole('button', { name: 'Replay now' }).click();
    const done = page.getByRole('status').filter({ hasText: 'replayed as raw sequence' });
    await done.waitFor();
    expect(await done.textContent()).toContain('Dead letter 1 replayed as raw sequence');
    // Gone from the list, the others still there; stored once.
    await page.getByTestId('dead-letter-total').filter({ hasText: /^2$/ }).waitFor();
    expect(await row(page, 1).count()).toBe(0);
    expect(await row(page, 2).count()).toBe(1);
    await waitFor(async () => running.hub.stats().stored === 1, { what: 'the replayed event stored' });

    // The API refuses a second replay (NOT_FOUND), a GET replay and a form-encoded POST.
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const again = await fetch(`${base}/api/v1/query/dead-letters/1/replay`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
    });
    expect(again.status).toBe(404);
    expect((await fetch(`${base}/api/v1/query/dead-letters/2/replay`, { headers: auth })).status).toBe(405);
    expect(
      (
        await fetch(`${base}/api/v1/query/dead-letters/2/replay`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'x=1',
        })
      ).status,
    ).toBe(415);
    expect(running.hub.stats().stored).toBe(1);
    expect(errors, errors.join('\n')).toEqual([]);
    await page.close();
  });

  test('390 px wide with a dead letter open: no horizontal scroll', async () => {
    const { page, errors } = await openPage(browser, 390, 844);
    await signIn(page, errors);
    await row(page, 2).getByRole('button').click();
    await page.getByTestId('dead-letter-bytes').waitFor();
    const overflow = await page.evaluate('document.documentElement.scrollWidth - innerWidth');
    expect(overflow as number).toBeLessThanOrEqual(0);
    expect(errors, errors.join('\n')).toEqual([]);
    await page.close();
  });

  test('honest states: none yet, and the hub unreachable', async () => {
    const { page, errors } = await openPage(browser);
    await signIn(page, errors);
    await page.route('**/api/v1/query/dead-letters?*', (route) =>
      route.fulfill({ contentType: 'application/json', body: '{"total":"0"}' }),
    );
    await page.getByRole('link', { name: 'Instances' }).click();
    await page.getByRole('link', { name: 'Dead letters' }).click();
    await page.getByText('No dead letters').waitFor();
    await page.unroute('**/api/v1/query/dead-letters?*');
    await page.route('**/api/v1/query/**', (route) => route.abort('connectionrefused'));
    await page.getByRole('link', { name: 'Instances' }).click();
    await page.getByRole('link', { name: 'Dead letters' }).click();
    await page.getByRole('alert').first().waitFor();
    expect(await page.getByRole('alert').first().textContent()).toContain('hub unreachable');
    await page.close();
  });

  // Last: it adds the dead letters the other tests do not expect.
  test('pages as ListDeadLetters pages: 50, then the rest, and back', async () => {
    const js = jetstream(running.nc);
    const before = running.hub.stats().deadLetters;
    for (let i = 0; i < DEAD_LETTER_PAGE; i++)
      await js.publish(rawSubject('argo-eu', 'service', 'deployed'), `not json ${i}`);
    await waitFor(async () => running.hub.stats().deadLetters >= before + DEAD_LETTER_PAGE, {
      what: 'fifty more dead letters',
    });
    const { page, errors } = await openPage(browser);
    await signIn(page, errors);
    const rows = page.getByRole('table', { name: 'Dead letters' }).locator('tbody tr');
    expect(await rows.count()).toBe(DEAD_LETTER_PAGE);
    expect(await page.getByTestId('dead-letter-total').textContent()).toBe(String(2 + DEAD_LETTER_PAGE));
    expect(await page.getByRole('button', { name: 'Previous page' }).isDisabled()).toBe(true);
    const first = await rows.first().getAttribute('data-sequence');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('page 2').waitFor();
    // The next page loads after the click's render: wait for its rows.
    await expect.poll(() => rows.count()).toBe(2);
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await rows.nth(DEAD_LETTER_PAGE - 1).waitFor();
    expect(await rows.first().getAttribute('data-sequence')).toBe(first);
    expect(errors, errors.join('\n')).toEqual([]);
    await page.close();
  });
});
