/**
 * What one Argo CD release writes into an Application, for the fields agents read. Each profile names
 * the release(s) it stands for; each flag names the Argo CD file it was read from.
 */

/** The profiles the simulator plays. `3.2` stands for 3.2 and later 3.x; it differs from `3.1` in `retryMessage` only. */
export const ARGOCD_VERSIONS = ['2.8', '2.14', '3.0', '3.1', '3.2'] as const;
export type ArgoCdVersion = (typeof ARGOCD_VERSIONS)[number];

export const DEFAULT_ARGOCD_VERSION: ArgoCdVersion = '3.1';

/**
 * How `status.health.lastTransitionTime` is written:
 * - `absent`: the field does not exist (2.4-2.13 `pkg/apis/application/v1alpha1/types.go` `HealthStatus`).
 * - `every-reconcile`: stamped by each reconcile, kept only when the status is unchanged and already set
 *   (2.14.0-2.14.11, 3.0.0-3.0.2 `controller/health.go` `setApplicationHealth`).
 * - `on-change`: set only when the health status changes, else the old value (or none) is copied
 *   (2.14.12+, 3.0.3+, 3.1+ `controller/appcontroller.go` `persistAppStatus`, commit 45a8c68f2a).
 */
export type HealthTransitionMode = 'absent' | 'every-reconcile' | 'on-change';

export interface VersionProfile {
  readonly version: ArgoCdVersion;
  readonly healthTransition: HealthTransitionMode;
  /**
   * Resource health stored in `status.resources[].health` (≤2.14); from 3.0 the controller default is
   * `--persist-resource-health=false`: `resourceHealthSource: appTree` and no resource health in the CR
   * (3.0 `controller/health.go`, docs/operator-manual/upgrading/2.14-3.0.md).
   */
  readonly persistResourceHealth: boolean;
  /** `history[].initiatedBy` exists from 2.11 (docs/operator-manual/upgrading/2.10-2.11.md). */
  readonly historyInitiatedBy: boolean;
  /** `spec.sourceHydrator` and an always-serialised `status.sourceHydrator` (2.14+ `types.go`). */
  readonly sourceHydrator: boolean;
  /**
   * `--sync-timeout`: a sync running too long is Terminating "operation is terminating due to timeout",
   * then ends as a failed attempt, retried as any other (2.14+ `controller/appcontroller.go`, #20816).
   */
  readonly syncTimeout: boolean;
  /** `oci://` sources resolved to a `sha256:` digest (3.1+ `util/oci/client.go` `ResolveRevision`). */
  readonly ociSources: boolean;
  /**
   * The message of a failed attempt with retries left (`controller/appcontroller.go`
   * `processRequestedAppOperation`): 2.8-3.0 "<msg>. Retrying attempt #N at 3:04PM."; 3.1.x
   * "<msg> due to application controller sync timeout. Retrying attempt #N at 3:04PM." (3.2+ went back to
   * the first form).
   */
  readonly retryMessage: (message: string, attempt: number, retryAt: string) => string;
}

const plainRetry = (message: string, attempt: number, retryAt: string): string =>
  `${message}. Retrying attempt #${attempt} at ${retryAt}.`;

// v3.1.0 … v3.1.x controller/appcontroller.go; v3.2.0 restored plainRetry.
const timeoutWordedRetry = (message: string, attempt: number, retryAt: string): string =>
  `${message} due to application controller sync timeout. Retrying attempt #${attempt} at ${retryAt}.`;

export const PROFILES: Readonly<Record<ArgoCdVersion, VersionProfile>> = {
  '2.8': {
    version: '2.8',
    syncTimeout: false,
    healthTransition: 'absent',
    persistResourceHealth: true,
    historyInitiatedBy: false,
    sourceHydrator: false,
    ociSources: false,
    retryMessage: plainRetry,
  },
  // 2.14.0-2.14.11; 2.14.12+ behaves as `on-change` (backport of #23018).
  '2.14': {
    version: '2.14',
    syncTimeout: true,
    healthTransition: 'every-reconcile',
    persistResourceHealth: true,
    historyInitiatedBy: true,
    sourceHydrator: true,
    ociSources: false,
    retryMessage: plainRetry,
  },
  // 3.0.0-3.0.2; 3.0.3+ behaves as `on-change`.
  '3.0': {
    version: '3.0',
    syncTimeout: true,
    healthTransition: 'every-reconcile',
    persistResourceHealth: false,
    historyInitiatedBy: true,
    sourceHydrator: true,
    ociSources: false,
    retryMessage: plainRetry,
  },
  '3.1': {
    version: '3.1',
    syncTimeout: true,
    healthTransition: 'on-change',
    persistResourceHealth: false,
    historyInitiatedBy: true,
    sourceHydrator: true,
    ociSources: true,
    retryMessage: timeoutWordedRetry,
  },
  '3.2': {
    version: '3.2',
    syncTimeout: true,
    healthTransition: 'on-change',
    persistResourceHealth: false,
    historyInitiatedBy: true,
    sourceHydrator: true,
    ociSources: true,
    retryMessage: plainRetry,
  },
};

export class UnknownVersionError extends Error {
  override name = 'UnknownVersionError';
  readonly version: string;
  constructor(version: string) {
    super(`unknown Argo CD version profile ${JSON.stringify(version)}; known: ${ARGOCD_VERSIONS.join(', ')}`);
    this.version = version;
  }
}

export const isArgoCdVersion = (value: unknown): value is ArgoCdVersion =>
  typeof value === 'string' && (ARGOCD_VERSIONS as readonly string[]).includes(value);

export const profileFor = (version: string = DEFAULT_ARGOCD_VERSION): VersionProfile => {
  if (!isArgoCdVersion(version)) throw new UnknownVersionError(version);
  return PROFILES[version];
};
