export type { AgentConfig } from './agent.js';
export { Agent } from './agent.js';
export { compareResourceVersion } from './argocd/resource-version.js';
export type {
  Application,
  ApplicationDestination,
  ApplicationSource,
  OperationState,
  RevisionHistory,
} from './argocd/types.js';
export { entryRevision, logicalUid, SOURCE_UID_ANNOTATION, sourcesOf } from './argocd/types.js';
export type { SourceProtocolReason } from './errors.js';
export {
  AgentError,
  AgentStoppingError,
  HttpStatusError,
  KubeconfigError,
  NotAnApplicationError,
  OutboxFullError,
  ResourceVersionExpiredError,
  SourceProtocolError,
  SpoolDamagedError,
  TlsVerificationError,
} from './errors.js';
export type { AgentOptions, RunningAgent } from './main.js';
export { AGENT_VERSION, runAgent } from './main.js';
export { AgentMetrics } from './metrics.js';
export type { AgentOptionsSpec } from './options.js';
export {
  AGENT_NODE_OPTIONS,
  AGENT_OPTIONS,
  DEFAULT_ABSENT_REMOVAL_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_SPOOL,
} from './options.js';
export type { ArgoCdApiSourceOptions } from './sources/argocd-api.js';
export { ArgoCdApiSource } from './sources/argocd-api.js';
export { getJson, streamJsonLines } from './sources/http.js';
export type { KubernetesSourceOptions } from './sources/kubernetes.js';
export { KubernetesSource } from './sources/kubernetes.js';
export type { ApplicationWebhookConfig } from './sources/notifications.js';
export {
  APPLICATION_WEBHOOK_PATH,
  applicationOf,
  applicationWebhookRoute,
  NotificationsAppSource,
} from './sources/notifications.js';
export type { AppSource, SourceEvent } from './sources/source.js';
export { WEBHOOK_PATH, webhookRoute } from './sources/webhook.js';
export type { OutboxEntry } from './state/outbox.js';
export { Outbox } from './state/outbox.js';
export type { AgentHeartbeat } from './state/progress-store.js';
export { AGENTS_BUCKET, PROGRESS_BUCKET, ProgressStore } from './state/progress-store.js';
export type { DetectorContext } from './transitions/context.js';
export {
  clusterOf,
  IN_CLUSTER_NAME,
  IN_CLUSTER_SERVER,
  SERVICE_ANNOTATION,
  serviceOf,
} from './transitions/context.js';
export {
  detectTransitions,
  rememberedApp,
  removalEmission,
  syncStatusRefreshed,
} from './transitions/detect.js';
export type { Detection, DetectionNotes, Emission } from './transitions/emission.js';
export type { EnvironmentChange, EnvironmentsState } from './transitions/environments.js';
export { appEntered, appLeft, EMPTY_ENVIRONMENTS } from './transitions/environments.js';
export { occurrenceId } from './transitions/events.js';
export { factsOf, queryEscape } from './transitions/identity.js';
export { operationKey, operationOutcome } from './transitions/operations.js';
export type { AppProgress } from './transitions/progress.js';
export { MAX_REMEMBERED_DEPLOYMENTS, readProgress } from './transitions/progress.js';
export { artifactPurl, isPurl } from './transitions/purl.js';
export type { WebhookRunner, WebhookRunnerConfig } from './webhook-runner.js';
export { webhookRunner } from './webhook-runner.js';
