export { ArgusProcess, REPO_ROOT, runArgus } from './argus-cli.js';
export type { TestCertificates } from './certificates.js';
export { makeTestCertificates } from './certificates.js';
export { clickHouseTarget, randomDatabase } from './clickhouse.js';
export {
  DEPLOY_NATS_ACCOUNTS,
  DEPLOY_NATS_DIR,
  DEPLOY_NATS_PASSWORDS,
  DEPLOY_NATS_STORE_LIMITS,
} from './deploy-nats.js';
export { captureLogs } from './logs.js';
export { NatsCluster } from './nats-cluster.js';
export { NatsServer } from './nats-server.js';
export { freePort, freePorts } from './ports.js';
export { postRaw } from './post-raw.js';
export { waitFor } from './wait-for.js';
