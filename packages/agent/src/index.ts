export type {
  Application,
  ApplicationDestination,
  ApplicationSource,
  OperationState,
  RevisionHistory,
} from './argocd/types.js';
export { entryRevision, logicalUid, SOURCE_UID_ANNOTATION, sourcesOf } from './argocd/types.js';
export type { DetectorContext } from './transitions/context.js';
export {
  clusterOf,
  IN_CLUSTER_NAME,
  IN_CLUSTER_SERVER,
  SERVICE_ANNOTATION,
  serviceOf,
} from './transitions/context.js';
export type { AppProgress, Detection, Emission } from './transitions/detect.js';
export { detectTransitions, MAX_REMEMBERED_REVISIONS, removalEmission } from './transitions/detect.js';
export type { EnvironmentChange, EnvironmentsState } from './transitions/environments.js';
export { appEntered, appLeft, EMPTY_ENVIRONMENTS } from './transitions/environments.js';
export { artifactPurl, isPurl } from './transitions/purl.js';
