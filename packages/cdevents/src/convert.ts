import { ConversionError, ValidationError } from './errors.js';
import type { CustomEventTypeInfo, EventTypeInfo } from './registry.js';
import { typeString } from './registry.js';
import { isPlainObject } from './schema/compile.js';
import type { EventKey, SpecVersion } from './spec/catalog.js';
import type { CDEvent } from './types.js';
import { validateEvent } from './validate.js';

/** A field that v0.4.1 and v0.5.1 spell differently, as a path below `subject.content`. */
interface Rename {
  readonly path: readonly string[];
  readonly v041: string;
  readonly v051: string;
}

/** A value that the two versions spell differently (test outcomes). */
interface ValueMap {
  readonly path: readonly string[];
  readonly v041ToV051: Readonly<Record<string, string>>;
}

const urlToUri: Rename = { path: [], v041: 'url', v051: 'uri' };
const outcomes: ValueMap = { path: ['outcome'], v041ToV051: { pass: 'success', fail: 'failure' } };

const RENAMES: Partial<Record<EventKey, readonly Rename[]>> = {
  'environment.created': [urlToUri],
  'environment.modified': [urlToUri],
  'pipelinerun.queued': [urlToUri],
  'pipelinerun.started': [urlToUri],
  'pipelinerun.finished': [urlToUri],
  'repository.created': [urlToUri],
  'repository.modified': [urlToUri],
  'repository.deleted': [urlToUri],
  'taskrun.started': [urlToUri],
  'taskrun.finished': [urlToUri],
  'testsuiterun.queued': [{ path: ['testSuite'], v041: 'url', v051: 'uri' }],
};

const VALUE_MAPS: Partial<Record<EventKey, readonly ValueMap[]>> = {
  'testcaserun.finished': [outcomes],
  'testsuiterun.finished': [outcomes],
};

const at = (root: Record<string, unknown>, path: readonly string[]): Record<string, unknown> | undefined => {
  let node: unknown = root;
  for (const key of path) node = isPlainObject(node) ? node[key] : undefined;
  return isPlainObject(node) ? node : undefined;
};

const invert = (map: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(map).map(([k, v]) => [v, k]));

const convertContent = (key: EventKey, content: Record<string, unknown>, target: SpecVersion) => {
  for (const rename of RENAMES[key] ?? []) {
    const holder = at(content, rename.path);
    if (holder === undefined) continue;
    const [from, to] = target === '0.5.1' ? [rename.v041, rename.v051] : [rename.v051, rename.v041];
    if (Object.hasOwn(holder, from)) {
      holder[to] = holder[from];
      delete holder[from];
    }
  }
  for (const map of VALUE_MAPS[key] ?? []) {
    const field = map.path.at(-1) ?? '';
    const holder = at(content, map.path.slice(0, -1));
    const value = holder?.[field];
    const table = target === '0.5.1' ? map.v041ToV051 : invert(map.v041ToV051);
    if (holder !== undefined && typeof value === 'string' && Object.hasOwn(table, value))
      holder[field] = table[value];
  }
};

const renameSpecField = (context: Record<string, unknown>, target: SpecVersion) => {
  const [from, to] = target === '0.5.1' ? ['version', 'specversion'] : ['specversion', 'version'];
  const rebuilt: Record<string, unknown> = { [to]: target };
  for (const [k, v] of Object.entries(context)) if (k !== from) rebuilt[k] = v;
  return rebuilt;
};

const convertKnown = (event: Record<string, unknown>, info: EventTypeInfo, target: SpecVersion) => {
  const context = renameSpecField(event.context as Record<string, unknown>, target);
  context.type = typeString(info.key, target);
  const subject = event.subject as Record<string, unknown>;
  if (target === '0.4.1') subject.type = info.subjectType;
  else delete subject.type;
  if (isPlainObject(subject.content)) convertContent(info.key, subject.content, target);
  return context;
};

const convertCustom = (event: Record<string, unknown>, info: CustomEventTypeInfo, target: SpecVersion) => {
  const subject = event.subject as Record<string, unknown>;
  if (target === '0.4.1') subject.type = info.subjectType;
  else if (subject.type !== undefined && subject.type !== info.subjectType) {
    throw new ConversionError(info.type, target, [
      {
        path: 'subject.type',
        message: `is ${JSON.stringify(subject.type)}, which CDEvents 0.5.x cannot carry (it would be ${info.subjectType})`,
      },
    ]);
  } else delete subject.type;
  return renameSpecField(event.context as Record<string, unknown>, target);
};

/**
 * Converts an event between CDEvents v0.4.1 and v0.5.1: the spec-version field, the type version,
 * `subject.type`, renamed fields (`url`/`uri`) and renamed values (`pass`/`success`). The result is
 * validated; where no lossless mapping exists (a v0.4.1 `url` that is no URI, an outcome v0.5.1
 * does not allow) a `ConversionError` lists the issues. Returns a new object; the input is untouched.
 */
export const convert = (event: CDEvent, target: SpecVersion): CDEvent => {
  const { info, specVersion } = validateEvent(event);
  const copy = structuredClone(event) as unknown as Record<string, unknown>;
  if (specVersion === target) return copy as unknown as CDEvent;
  copy.context = info.custom ? convertCustom(copy, info, target) : convertKnown(copy, info, target);
  const ordered: Record<string, unknown> = { context: copy.context, subject: copy.subject };
  for (const [k, v] of Object.entries(copy)) if (!(k in ordered)) ordered[k] = v;
  try {
    return validateEvent(ordered).event;
  } catch (error) {
    if (error instanceof ValidationError) throw new ConversionError(info.type, target, error.issues, error);
    throw error;
  }
};
