import type { UnifiedEvent } from '@argus/bus';

/** What a preview-environment controller would do for one event, or undefined to ignore it. */
export const previewAction = (e: UnifiedEvent): string | undefined => {
  const [, , subject, predicate] = e.event.context.type.split('.');
  const id = e.event.subject.id;
  if (subject === 'change') {
    if (predicate === 'created') return `create preview environment for change ${id}`;
    if (predicate === 'updated') return `redeploy preview environment of change ${id}`;
    if (predicate === 'merged' || predicate === 'abandoned')
      return `delete preview environment of change ${id} (${predicate})`;
    return undefined;
  }
  if (subject === 'environment' && predicate === 'created')
    return `environment ${id} is up in ${e.cluster || 'an unknown cluster'} (published by ${e.instance}): register it`;
  return undefined;
};
