export type { AppDefinition, Application, ClusterSpec, SourceSpec } from './model.js';
export { SimulatedArgoCD } from './model.js';
export type { NotificationsConfig, RenderedNotification } from './notifications.js';
export {
  GoTemplate,
  goFormat,
  loadNotificationsConfigMap,
  NotificationsController,
  parseNotificationsConfigMap,
  postNotification,
  subscribeEveryApp,
  templateVars,
} from './notifications.js';
export type { ArgoCdVersion } from './profiles.js';
export { ARGOCD_VERSIONS } from './profiles.js';
export type { Scenario, Step } from './scenario.js';
export {
  applyStep,
  buildScenario,
  generateApps,
  loadScenario,
  runScenario,
  simulatorFor,
} from './scenario.js';
export type { RunningServer } from './servers.js';
export { startArgoCdApi, startKubeApi } from './servers.js';
