import type { CDEvent } from '@argus/cdevents';
import type { EnvironmentsState } from './transitions/environments.js';
import type { AppProgress } from './transitions/progress.js';

/**
 * Hands an event to the publisher (or, without one, a checkpoint: progress to save in its turn),
 * behind everything handed over before it, with the progress to save once it is on the bus.
 */
export type Spool = (
  event: CDEvent | undefined,
  cluster: string,
  progress: AppProgress | undefined,
  environments: EnvironmentsState | undefined,
) => Promise<void>;
