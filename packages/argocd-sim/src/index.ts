export type {
  AppDefinition,
  Application,
  ClusterSpec,
  HistoryEntry,
  SimulatedArgoCDOptions,
  SourceSpec,
  SyncRequest,
  WatchEvent,
  WatchType,
} from './model.js';
export { ExpiredResourceVersionError, SimulatedArgoCD, UnknownAppError } from './model.js';
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
  TEMPLATE_FUNCTIONS,
  TemplateError,
  templateVars,
} from './notifications.js';
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
export type { ApiServerOptions, KubeServerOptions, RunningServer, SimServerOptions } from './servers.js';
export { startArgoCdApi, startKubeApi } from './servers.js';
