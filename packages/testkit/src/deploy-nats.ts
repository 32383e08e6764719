/** What tests running the shipped deploy/nats configuration share: its files, test passwords, a node's store limits. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './argus-cli.js';

export const DEPLOY_NATS_DIR = join(REPO_ROOT, 'deploy/nats');
export const DEPLOY_NATS_ACCOUNTS = readFileSync(join(DEPLOY_NATS_DIR, 'accounts.conf'), 'utf8');

/** A value for every `$NAME` password reference of accounts.conf. */
export const DEPLOY_NATS_PASSWORDS = {
  NATS_HUB_PASSWORD: 'hub-secret',
  NATS_ARGO_EU_PASSWORD: 'eu-secret',
  NATS_ARGO_US_PASSWORD: 'us-secret',
  NATS_ROLLBACK_REACTOR_PASSWORD: 'rollback-secret',
  NATS_PREVIEW_REACTOR_PASSWORD: 'preview-secret',
  NATS_ARGO_EU_LEAF_PASSWORD: 'eu-leaf-secret',
} as const;

const nodeConfig = readFileSync(join(DEPLOY_NATS_DIR, 'nats-1.conf'), 'utf8');
const limit = (name: string): string => {
  const value = new RegExp(`^\\s*${name}:\\s*(\\S+)`, 'm').exec(nodeConfig)?.[1];
  if (value === undefined) throw new Error(`deploy/nats/nats-1.conf has no ${name}`);
  return value;
};

/**
 * The store of a deploy/nats node: the account limits of accounts.conf are reserved from it, so a
 * test server running that file needs the same.
 */
export const DEPLOY_NATS_STORE_LIMITS = { maxMem: limit('max_mem'), maxFile: limit('max_file') } as const;
