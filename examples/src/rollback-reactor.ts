/**
 * Rollback reactor: on every `incident.detected` of the unified stream, asks the Argus query API
 * for the service's timeline and prints the rollback it would request from Argo CD. It requests
 * nothing: wiring it to `argocd app rollback` is a deliberate, separate step.
 *
 *   pnpm --filter @argus/examples rollback-reactor --nats nats://127.0.0.1:4222 --hub 127.0.0.1:50051
 *
 * With deploy/nats/accounts.conf: `--nats-user rollback-reactor --nats-password ... --nats-inbox-prefix
 * _INBOX_rollback-reactor` (and `--nats-ca` for TLS), the same options as the hub and the agents.
 */
import { connectNats, jetStreamOf, natsSetup, subscribeUnified, type UnifiedEvent } from '@argus/bus';
import { type GetServiceTimelineResponse, QueryServiceClient } from '@argus/query-api';
import { createLogger } from '@argus/runtime';
import { credentials, Metadata } from '@grpc/grpc-js';
import { parseReactorOptions, reactorSpec } from './reactor-options.js';
import { describePlan, planRollback } from './rollback-plan.js';

process.on('uncaughtException', (error) => {
  process.stderr.write(`rollback-reactor: ${error.message}\n`);
  process.exit(1);
});

const ROLLBACK_REACTOR_OPTIONS = reactorSpec({
  hub: { kind: 'string', description: 'query API of the hub (host:port)', default: '127.0.0.1:50051' },
  token: { kind: 'string', description: 'API token of the hub', placeholder: '<token>' },
  durable: {
    kind: 'string',
    description: 'durable consumer name (its NATS user must be allowed it)',
    default: 'rollback-reactor',
    env: false,
  },
} as const);
const values = parseReactorOptions(ROLLBACK_REACTOR_OPTIONS, process.argv.slice(2), process.env);

const logger = createLogger({ service: 'rollback-reactor', level: 'info' });
const nc = await connectNats(natsSetup(values, 'rollback-reactor', logger));
const client = new QueryServiceClient(values.hub, credentials.createInsecure());
const metadata = new Metadata();
if (values.token !== undefined) metadata.set('authorization', `Bearer ${values.token}`);

const timeline = (service: string) =>
  new Promise<GetServiceTimelineResponse>((resolve, reject) =>
    client.getServiceTimeline(
      { service, limit: 500, upstream: false },
      metadata,
      { deadline: Date.now() + 10_000 },
      (err, res) => (err === null ? resolve(res) : reject(err)),
    ),
  );

const serviceOf = (e: UnifiedEvent): string | undefined => {
  const content = e.event.subject.content as { service?: { id?: unknown } } | undefined;
  return typeof content?.service?.id === 'string' ? content.service.id : undefined;
};

const subscription = await subscribeUnified(nc, jetStreamOf(nc), {
  durable: values.durable,
  subjectType: 'incident',
  predicate: 'detected',
  onError: (err) => logger.warn({ err }, 'planning a rollback failed; the incident comes back'),
  handler: async (e) => {
    const service = serviceOf(e);
    if (service === undefined) {
      logger.info({ incident: e.event.subject.id }, 'incident names no service: nothing to roll back');
      return;
    }
    const plan = planRollback(
      { id: e.event.subject.id, cluster: e.cluster, service, at: new Date(e.event.context.timestamp) },
      (await timeline(service)).entries,
    );
    console.log(
      plan === undefined
        ? `incident ${e.event.subject.id} on ${service} in ${e.cluster}: no earlier healthy deployment to roll back to`
        : describePlan(plan),
    );
  },
});
logger.info(
  { filter: subscription.filterSubject, durable: subscription.durable },
  'rollback reactor listening',
);
const stop = async () => {
  await subscription.stop();
  client.close();
  await nc.drain();
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
