export type { StreamError } from './api-stream.js';
export { KEEPALIVE_INTERVAL_MS } from './api-stream.js';
export { appendHistory, DEFAULT_REVISION_HISTORY_LIMIT, truncHistory } from './history.js';
export type {
  AppDefinition,
  Application,
  AttemptOutcome,
  ClusterSpec,
  HistoryEntry,
  ResourceRef,
  SimulatedArgoCDOptions,
  SourceSpec,
  SyncRequest,
  WatchEvent,
  WatchType,
} from './model.js';
export {
  DEFAULT_HISTORY_WINDOW_EVENTS,
  ExpiredResourceVersionError,
  InvalidStepError,
  SimulatedArgoCD,
  UnknownAppError,
} from './model.js';
export type {
  NotificationsConfig,
  NotificationsControllerOptions,
  NotificationTemplate,
  PostResult,
  RenderedNotification,
  Subscription,
  TriggerCondition,
  WebhookService,
  WebhookTemplate,
} from './notifications.js';
export {
  ExprError,
  Expression,
  GoTemplate,
  goFormat,
  isAppSyncStatusRefreshed,
  loadNotificationsConfigMap,
  NotificationsConfigError,
  NotificationsController,
  parseNotificationsConfigMap,
  postNotification,
  renderNotification,
  renderTrigger,
  subscribeEveryApp,
  TEMPLATE_FUNCTIONS,
  TemplateError,
  templateVars,
} from './notifications.js';
export type { ArgoCdVersion, HealthTransitionMode, VersionProfile } from './profiles.js';
export {
  ARGOCD_VERSIONS,
  DEFAULT_ARGOCD_VERSION,
  isArgoCdVersion,
  PROFILES,
  profileFor,
  UnknownVersionError,
} from './profiles.js';
export type { RetryStrategy } from './retry.js';
export { AUTO_SYNC_RETRY, kitchen, nextRetryAt } from './retry.js';
export type { RunOptions, Scenario, Step } from './scenario.js';
export {
  applyStep,
  buildScenario,
  generateApps,
  loadScenario,
  runScenario,
  ScenarioError,
  simulatorFor,
} from './scenario.js';
export type {
  ApiServerOptions,
  ArgoCdApiServer,
  KubeServerOptions,
  RunningServer,
  SimServerOptions,
} from './servers.js';
export { startArgoCdApi, startKubeApi } from './servers.js';
export type { HelmSource, SourceHydratorSpec } from './types.js';
