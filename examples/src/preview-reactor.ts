/**
 * Preview-environment reactor: follows `change.*` and `environment.created` on the unified stream
 * (two durables: a 2.9 server allows one filter subject per consumer) and prints what a preview
 * controller would do. It changes nothing.
 *
 *   pnpm --filter @argus/examples preview-reactor --nats nats://127.0.0.1:4222
 *
 * With deploy/nats/accounts.conf: `--nats-user preview-reactor --nats-password ... --nats-inbox-prefix
 * _INBOX_preview-reactor` (and `--nats-ca` for TLS), the same options as the hub and the agents.
 */
import { connectNats, jetStreamOf, natsSetup, subscribeUnified } from '@argus/bus';
import { createLogger } from '@argus/runtime';
import { previewAction } from './preview-plan.js';
import { parseReactorOptions, reactorSpec } from './reactor-options.js';

process.on('uncaughtException', (error) => {
  process.stderr.write(`preview-reactor: ${error.message}\n`);
  process.exit(1);
});

const PREVIEW_REACTOR_OPTIONS = reactorSpec({
  durable: {
    kind: 'string',
    description: 'prefix of the two durable consumer names (-changes, -environments)',
    default: 'preview-reactor',
    env: false,
  },
} as const);
const values = parseReactorOptions(PREVIEW_REACTOR_OPTIONS, process.argv.slice(2), process.env);
const logger = createLogger({ service: 'preview-reactor', level: 'info' });
const nc = await connectNats(natsSetup(values, 'preview-reactor', logger));
const js = jetStreamOf(nc);
const handler = (e: Parameters<typeof previewAction>[0]) => {
  const action = previewAction(e);
  if (action !== undefined) console.log(action);
};
const subscriptions = await Promise.all([
  subscribeUnified(nc, js, { durable: `${values.durable}-changes`, subjectType: 'change', handler }),
  subscribeUnified(nc, js, {
    durable: `${values.durable}-environments`,
    subjectType: 'environment',
    predicate: 'created',
    handler,
  }),
]);
logger.info({ filters: subscriptions.map((s) => s.filterSubject) }, 'preview reactor listening');
const stop = async () => {
  await Promise.all(subscriptions.map((s) => s.stop()));
  await nc.drain();
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
