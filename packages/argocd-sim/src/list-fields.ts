/**
 * `GET /api/v1/applications?fields=…`: since 2.6 only a fixed set of paths can be selected (or excluded
 * with a leading `-`); any other path, e.g. `items.status.history`, is silently dropped
 * (`pkg/apiclient/application/forwarder_overwrite.go` `appFields`, `processApplicationListField`, 2.8-3.x).
 */
import type { Application } from './types.js';

type Op = Record<string, unknown> | undefined;
const opState = (app: Application): Op => app.status.operationState as Op;

// `undefined` = Go's untyped nil (the field is left out); `null` = a typed nil pointer or map (written as null).
const APP_FIELDS: Readonly<Record<string, (app: Application) => unknown>> = {
  'metadata.name': (a) => a.metadata.name,
  'metadata.namespace': (a) => a.metadata.namespace,
  'metadata.annotations': (a) => a.metadata.annotations ?? null,
  'metadata.labels': (a) => a.metadata.labels ?? null,
  'metadata.creationTimestamp': (a) => a.metadata.creationTimestamp,
  'metadata.deletionTimestamp': (a) => a.metadata.deletionTimestamp ?? null,
  spec: (a) => a.spec,
  'status.sync.status': (a) => (a.status.sync as { status?: string } | undefined)?.status ?? '',
  'status.health': (a) => a.status.health ?? {},
  'status.summary': (a) => a.status.summary ?? {},
  'status.operationState.startedAt': (a) => opState(a)?.startedAt,
  'status.operationState.finishedAt': (a) =>
    opState(a) === undefined ? undefined : (opState(a)?.finishedAt ?? null),
  'status.resources': (a) =>
    Array.isArray(a.status.resources) && a.status.resources.length > 0 ? a.status.resources : undefined,
  'operation.sync': (a) => (a.operation === undefined ? undefined : (a.operation.sync ?? null)),
  'status.operationState.phase': (a) => opState(a)?.phase,
  // Argo CD's quirk: this path selects the sync *result*.
  'status.operationState.operation.sync': (a) =>
    opState(a) === undefined ? undefined : (opState(a)?.syncResult ?? null),
};

/** Parses `fields`: `null` when absent (whole objects), else the paths and whether they are excluded. */
export const parseListFields = (query: string | null): { paths: Set<string>; exclude: boolean } | null => {
  if (query === null || query === '') return null;
  const exclude = query.startsWith('-');
  return { paths: new Set((exclude ? query.slice(1) : query).split(',')), exclude };
};

/** One list item with only the selected fixed paths. */
export const selectListFields = (
  app: Application,
  fields: { paths: ReadonlySet<string>; exclude: boolean },
): Record<string, unknown> => {
  const item: Record<string, unknown> = {};
  for (const [path, read] of Object.entries(APP_FIELDS)) {
    if (fields.paths.has(`items.${path}`) === fields.exclude) continue;
    const value = read(app);
    if (value === undefined) continue;
    const parts = path.split('.');
    let node = item;
    for (const part of parts.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts.at(-1) ?? path] = value;
  }
  return item;
};
