import { EVENT_KEYS } from '@argus/cdevents';
import { EventFilter } from '@argus/query-api';
import type { OptionsSpec } from '@argus/runtime';
import { UsageError } from '../command.js';
import { didYouMean } from '../suggest.js';
import { parseTime } from './time.js';

/** The event filters of `query` and `tail`, as flags. */
export const FILTER_OPTIONS = {
  cluster: {
    env: false,
    kind: 'string',
    description: 'only events of this cluster',
    placeholder: '<name>',
  },
  instance: {
    env: false,
    kind: 'string',
    description: 'only events published by this Argo CD instance',
    placeholder: '<id>',
  },
  environment: {
    env: false,
    kind: 'string',
    description: 'only events of this environment',
    placeholder: '<name>',
  },
  type: {
    env: false,
    kind: 'string',
    description: 'subject (service), subject.predicate (service.deployed) or a full type',
    placeholder: '<type>',
  },
  subjectId: {
    env: false,
    kind: 'string',
    description: 'only events about this subject id',
    placeholder: '<id>',
  },
  chainId: {
    env: false,
    kind: 'string',
    description: 'only events of this chain',
    placeholder: '<id>',
  },
  since: {
    env: false,
    kind: 'string',
    description: 'from this time: 30m, 1h, 7d back, or RFC 3339',
    placeholder: '<when>',
  },
  until: {
    env: false,
    kind: 'string',
    description: 'before this time: 30m, 1h, 7d back, or RFC 3339',
    placeholder: '<when>',
  },
} as const satisfies OptionsSpec;

export interface FilterValues {
  readonly cluster?: string | undefined;
  readonly instance?: string | undefined;
  readonly environment?: string | undefined;
  readonly type?: string | undefined;
  readonly subjectId?: string | undefined;
  readonly chainId?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
}

/** The subjects of the spec's event types (service, incident, change, ...). */
const SUBJECT_TYPES: readonly string[] = [...new Set(EVENT_KEYS.map((k) => k.split('.')[0] ?? ''))];

/** `service`, `service.deployed` or `dev.cdevents.service.deployed.0.3.0` as filter fields. */
export const typeFilter = (type: string): Pick<EventFilter, 'type' | 'subjectType' | 'predicate'> => {
  if (type.startsWith('dev.cdevents.')) {
    const short = type.split('.').slice(2, 4).join('.');
    if (!(EVENT_KEYS as readonly string[]).includes(short))
      throw new UsageError(
        `--type ${JSON.stringify(type)} is not a CDEvents type${didYouMean(short, EVENT_KEYS)}`,
      );
    return { type, subjectType: '', predicate: '' };
  }
  const parts = type.split('.');
  if (parts.length > 2 || parts.some((p) => p === ''))
    throw new UsageError(
      `--type is subject, subject.predicate or a full dev.cdevents type, got ${JSON.stringify(type)}`,
    );
  const known = parts.length === 1 ? SUBJECT_TYPES : (EVENT_KEYS as readonly string[]);
  if (!known.includes(type))
    throw new UsageError(
      `--type ${JSON.stringify(type)} is not a CDEvents ${parts.length === 1 ? 'subject' : 'type'}${didYouMean(type, known)}`,
    );
  return { type: '', subjectType: parts[0] ?? '', predicate: parts[1] ?? '' };
};

export const toEventFilter = (values: FilterValues, now = Date.now()): EventFilter =>
  EventFilter.fromPartial({
    cluster: values.cluster ?? '',
    instance: values.instance ?? '',
    environment: values.environment ?? '',
    subjectId: values.subjectId ?? '',
    chainId: values.chainId ?? '',
    ...(values.type === undefined ? {} : typeFilter(values.type)),
    ...(values.since === undefined ? {} : { since: parseTime(values.since, '--since', now) }),
    ...(values.until === undefined ? {} : { until: parseTime(values.until, '--until', now) }),
  });
