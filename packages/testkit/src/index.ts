export type { ArgusProcessOptions, ArgusResult, RunArgusOptions } from './argus-cli.js';
export { ARGUS_BIN, ArgusProcess, REPO_ROOT, runArgus } from './argus-cli.js';
export type { TestCertificates } from './certificates.js';
export { makeTestCertificates } from './certificates.js';
export type { ClickHouseTarget, TestClickHouse } from './clickhouse.js';
export { clickHouseTarget, createTestClickHouse, randomDatabase } from './clickhouse.js';
export {
  DEPLOY_NATS_ACCOUNTS,
  DEPLOY_NATS_DIR,
  DEPLOY_NATS_PASSWORDS,
  DEPLOY_NATS_STORE_LIMITS,
} from './deploy-nats.js';
export { NatsServerNotFoundError, NatsServerStartError, WaitForTimeoutError } from './errors.js';
export type { LogCapture, LogLine } from './logs.js';
export { captureLogs } from './logs.js';
export type { NatsClusterOptions } from './nats-cluster.js';
export { NatsCluster } from './nats-cluster.js';
export type { NatsServerOptions } from './nats-server.js';
export { NatsServer, natsServerAvailable } from './nats-server.js';
export { freePort, freePorts } from './ports.js';
export type { PostRawOptions, PostRawResult } from './post-raw.js';
export { postRaw } from './post-raw.js';
export type { WaitForOptions } from './wait-for.js';
export { waitFor } from './wait-for.js';
