import type { CDEvent } from '@argus/cdevents';
import type { AppProgress } from './progress.js';

/** One event to publish and the progress that holds once it is published. */
export interface Emission {
  readonly event: CDEvent;
  /** The destination cluster name, sent to the hub in the `Argus-Cluster` header. */
  readonly cluster: string;
  readonly progress: AppProgress;
}

/** What a look at an app found that is worth a log line or a metric, besides events. */
export interface DetectionNotes {
  /** History entries appended and trimmed before the agent saw them (never turned into events). */
  readonly trimmedUnseen: number;
  /** The app's history restarted at id 0 (emptied by `revisionHistoryLimit` or a status lost by a replace). */
  readonly historyRestarted: boolean;
}

export interface Detection {
  readonly emissions: readonly Emission[];
  /** Progress after every emission (equal to the last emission's, or updated without events). */
  readonly progress: AppProgress;
  /** When to look at the app again without a change (a Degraded health or an error waiting out its debounce). */
  readonly recheckAt: Date | undefined;
  readonly notes: DetectionNotes;
}
