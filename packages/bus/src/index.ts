export type { AgentHeartbeat } from './agents.js';
export {
  kvKeyPart,
  openAgentsBucket,
  readHeartbeats,
  readHeartbeatsChecked,
  writeHeartbeat,
} from './agents.js';
export { ARGOCD_SOURCE_PREFIX, argocdSourceCluster, escapeSourceSegment } from './argocd-source.js';
export type { BatchAck, OutgoingMessage } from './batch-publisher.js';
export { BatchPublisher } from './batch-publisher.js';
export type { BucketOptions } from './buckets.js';
export {
  AGENTS_BUCKET,
  DEFAULT_PROGRESS_BUCKET_MAX_BYTES,
  ensureBucket,
  HUB_BUCKET,
  isPermissionViolation,
  isStreamNotFound,
  LEGACY_PROGRESS_BUCKET,
  MAX_HEARTBEAT_BYTES,
  messageIdKey,
  openBucket,
  progressBucket,
} from './buckets.js';
export { connectNats, drainOrClose, natsNotReadyReason, natsSetup } from './connect.js';
export {
  BucketMissingError,
  isPayloadTooLarge,
  JetStreamUnreachableError,
  StreamDriftError,
  SubjectSchemeError,
} from './errors.js';
export { HeaderList, isValidHeaderName } from './header-list.js';
export type { ClaimHeaders } from './headers.js';
export { destinationClaim, HEADERS, headerValue, MAX_HEADER_VALUE_LENGTH } from './headers.js';
export { jetStreamManagerOf, jetStreamOf, jsDomainOf, kvmOf, setJsDomain } from './jetstream.js';
export type { ServerInfoHolder, SizedMessage } from './max-payload.js';
export { maxPayloadProblem } from './max-payload.js';
export type { RawMessage, RawPublishOptions } from './publish.js';
export {
  deadLetterMessageId,
  publishRaw,
  publishRawMessage,
  rawMessage,
  rawMessageId,
  replayMessageId,
  typeTokens,
} from './publish.js';
export type { HeaderReader } from './received-headers.js';
export { receivedHeaderPairs, receivedHeaders } from './received-headers.js';
export type { StreamOptions } from './streams.js';
export {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_DLQ_MAX_AGE_MS,
  DEFAULT_DLQ_MAX_BYTES,
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_MAX_ACK_PENDING,
  DEFAULT_RAW_MAX_AGE_MS,
  DEFAULT_RAW_MAX_BYTES,
  DEFAULT_UNIFIED_MAX_AGE_MS,
  DEFAULT_UNIFIED_MAX_BYTES,
  DLQ_STREAM,
  ensureHubConsumer,
  ensureStreams,
  HUB_CONSUMER,
  MIN_DUPLICATE_WINDOW_MS,
  RAW_STREAM,
  UNIFIED_STREAM,
} from './streams.js';
export {
  assertToken,
  clusterToken,
  DLQ_SUBJECT_PREFIX,
  dlqSubject,
  isToken,
  NO_CLUSTER_TOKEN,
  parseRawSubject,
  RAW_SUBJECT_PREFIX,
  rawSubject,
  rawSubjectInstance,
  rawSubjectsOf,
  toToken,
  UNIFIED_SUBJECT_PREFIX,
  unifiedSubject,
  unifiedSubjectTypes,
} from './subjects.js';
export type { UnifiedEvent } from './subscribe.js';
export { subscribeUnified, unifiedFilter, unifiedTags } from './subscribe.js';
