import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLogs } from '@argus/testkit';
import { describe, expect, test } from 'vitest';
import {
  AgentError,
  AgentStoppingError,
  KubeconfigError,
  OutboxFullError,
  SourceProtocolError,
} from '../src/errors.js';
import { JsonListSplitter } from '../src/sources/http.js';
import { KubernetesSource } from '../src/sources/kubernetes.js';
import { NotificationsAppSource } from '../src/sources/notifications.js';

const logger = captureLogs().logger;

/** The error a call fails with (or undefined when it does not). */
const failure = async (call: () => unknown): Promise<unknown> => {
  try {
    await call();
    return undefined;
  } catch (error) {
    return error;
  }
};

describe("the agent's errors: a class and a reason to branch on, a message that says what to do", () => {
  test('a list cut short is a SourceProtocolError with its reason', async () => {
    const splitter = new JsonListSplitter();
    splitter.push(Buffer.from('{"metadata":{},"items":[{"a":'));
    const error = await failure(() => splitter.end());
    expect(error).toBeInstanceOf(SourceProtocolError);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as SourceProtocolError).reason).toBe('list-cut-short');
    expect((error as Error).message).toContain('the agent lists again');
  });

  test('a kubeconfig without the asked context names the ones it has', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'argus-kubeconfig-')), 'config');
    writeFileSync(
      file,
      'apiVersion: v1\ncontexts:\n- name: lab\n  context: {cluster: lab}\nclusters:\n- name: lab\n  cluster: {}\n',
    );
    const missing = await failure(() => KubernetesSource.fromKubeconfig(file, logger, { context: 'prod' }));
    expect(missing).toBeInstanceOf(KubeconfigError);
    expect(missing).toMatchObject({ reason: 'no-context', file });
    expect((missing as Error).message).toContain('name one of ["lab"] with --kube-context');
    const noServer = await failure(() => KubernetesSource.fromKubeconfig(file, logger, { context: 'lab' }));
    expect(noServer).toMatchObject({ name: 'KubeconfigError', reason: 'no-server', file });
  });

  test('a post to a stopped Notifications source is refused with AgentStoppingError', async () => {
    const source = new NotificationsAppSource();
    source.stop();
    const error = await failure(() => source.push({ metadata: { name: 'podinfo' } }));
    expect(error).toBeInstanceOf(AgentStoppingError);
  });

  test('a full spool says how to get out of it', () => {
    const error = new OutboxFullError(100);
    expect(error.depth).toBe(100);
    expect(error.message).toContain('raise --max-spool');
  });
});
