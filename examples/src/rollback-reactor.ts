/**
 * Rollback reactor: on every `incident.detected` of the unified stream, asks the Argus query API
 * for the service's timeline and prints the rollback it would request from Argo CD. It requests
 * nothing: wiring it to `argocd app rollback` is a deliberate, separate step.
 *
 *   pnpm --filter @argus/examples rollback-reactor --nats nats://127.0.0.1:4222 --hub 127.0.0.1:50051
 */
import { parseArgs } from 'node:util';
import { connectNats, subscribeUnified, type UnifiedEvent } from '@argus/bus';
import { type GetServiceTimelineResponse, QueryServiceClient } from '@argus/query-api';
import { createLogger } from '@argus/runtime';
import { credentials, Metadata } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import { describePlan, planRollback } from './rollback-plan.js';

process.on('uncaughtException', (error) => {
  process.stderr.write(`rollback-reactor: ${error.message}\n`);
  process.exit(1);
});

const { values } = parseArgs({
  // `pnpm <script> -- --flag` hands the `--` on: skip it.
  args: process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--')),
  options: {
    nats: { type: 'string', default: process.env.ARGUS_NATS ?? 'nats://127.0.0.1:4222' },
    hub: { type: 'string', default: process.env.ARGUS_HUB ?? '127.0.0.1:50051' },
    token: { type: 'string', default: process.env.ARGUS_TOKEN },
    durable: { type: 'string', default: 'rollback-reactor' },
  },
});

const logger = createLogger({ service: 'rollback-reactor', level: 'info' });
const nc = await connectNats({ servers: values.nats, name: 'rollback-reactor', logger });
const client = new QueryServiceClient(values.hub, credentials.createInsecure());
const metadata = new Metadata();
if (values.token !== undefined) metadata.set('authorization', `Bearer ${values.token}`);

const timeline = (service: string) =>
  new Promise<GetServiceTimelineResponse>((resolve, reject) =>
    client.getServiceTimeline(
      { service, limit: 500 },
      metadata,
      { deadline: Date.now() + 10_000 },
      (err, res) => (err === null ? resolve(res) : reject(err)),
    ),
  );

const serviceOf = (e: UnifiedEvent): string | undefined => {
  const content = e.event.subject.content as { service?: { id?: unknown } } | undefined;
  return typeof content?.service?.id === 'string' ? content.service.id : undefined;
};

const subscription = await subscribeUnified(nc, jetstream(nc), {
  durable: values.durable,
  subjectType: 'incident',
  predicate: 'detected',
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
