/** `status.sourceHydrator` as 2.14+ `controller/hydrator/hydrator.go` writes it (types.go `HydrateOperation`). */

import type { SourceHydratorSpec } from './types.js';

export interface HydrationRequest {
  readonly drySha: string;
  readonly hydratedSha: string;
  /** The hydration fails with this error: phase Failed, no operation, nothing deployed. */
  readonly fail?: string;
}

/** Queued: phase Hydrating, no SHA yet (`ProcessAppHydrateQueueItem`). */
export const hydrating = (spec: SourceHydratorSpec, startedAt: string): Record<string, unknown> => ({
  startedAt,
  phase: 'Hydrating',
  message: '',
  sourceHydrator: structuredClone(spec),
});

/** Done: `currentOperation` Hydrated or Failed; `lastSuccessfulOperation` only on success (`ProcessHydrationQueueItem`). */
export const hydrated = (
  previous: Record<string, unknown>,
  spec: SourceHydratorSpec,
  request: HydrationRequest,
  startedAt: string,
  finishedAt: string,
): Record<string, unknown> => {
  const base = { startedAt, finishedAt, drySHA: request.drySha, sourceHydrator: structuredClone(spec) };
  if (request.fail !== undefined) {
    return {
      ...previous,
      currentOperation: {
        ...base,
        phase: 'Failed',
        message: `Failed to hydrate revision "${request.drySha}": ${request.fail}`,
      },
    };
  }
  return {
    ...previous,
    currentOperation: { ...base, phase: 'Hydrated', message: '', hydratedSHA: request.hydratedSha },
    lastSuccessfulOperation: {
      drySHA: request.drySha,
      hydratedSHA: request.hydratedSha,
      sourceHydrator: structuredClone(spec),
    },
  };
};
