import { createHash } from 'node:crypto';
import { InvalidTokenError, SubjectSchemeError } from './errors.js';

export const RAW_SUBJECT_PREFIX = 'cdevents.raw';
export const UNIFIED_SUBJECT_PREFIX = 'cdevents.unified';
export const DLQ_SUBJECT_PREFIX = 'cdevents.dlq';

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** `true` when `value` is a safe NATS subject token by the Argus rule (`[A-Za-z0-9_-]`, 1-64 chars). */
export const isToken = (value: string): boolean => TOKEN.test(value);

/** Throws `InvalidTokenError` unless `value` is a safe subject token. */
export const assertToken = (value: string, what: string): string => {
  if (!TOKEN.test(value)) throw new InvalidTokenError(what, value);
  return value;
};

/**
 * Maps any name (a cluster such as `https://10.0.0.1:6443` or `prod.eu`) to a subject token:
 * unsafe characters become `_`, long names are cut. Lossy: the exact name travels in headers.
 */
export const toToken = (value: string): string => {
  const token = value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  return token === '' ? '_' : token;
};

/** The unified subject token of events with no cluster (CI, tests). */
export const NO_CLUSTER_TOKEN = 'unassigned';
/** A mapped cluster token ends with `-x` and 32 hex digits (128 bits of SHA-256 of the exact name). */
const MAPPED_SUFFIX = /-x[0-9a-f]{32}$/;
const MAX_TOKEN = 64;

/**
 * The unified subject token of a cluster, one-to-one: a name that is a token is its own token; any
 * other name (`prod.eu`, `prod eu`, an Argo CD server URL or an EKS ARN, longer than 64 characters)
 * becomes its readable part plus `-x` and a digest of the exact name, so `prod.eu`, `prod eu` and
 * `prod_eu` get three tokens. Names are not refused: Argo CD cluster names are often not tokens, and
 * refusing them would lose events. A token that looks mapped, and `unassigned`, are mapped too, so
 * no name can take another's token or the no-cluster one. The exact name is in `Argus-Cluster`.
 */
export const clusterToken = (cluster: string): string => {
  if (cluster === '') return NO_CLUSTER_TOKEN;
  if (isToken(cluster) && cluster !== NO_CLUSTER_TOKEN && !MAPPED_SUFFIX.test(cluster)) return cluster;
  const digest = createHash('sha256').update(cluster).digest('hex').slice(0, 32);
  return `${toToken(cluster).slice(0, MAX_TOKEN - 34)}-x${digest}`;
};

/** `cdevents.raw.<instance>.<subjectType>.<predicate>`: where an agent publishes. */
export const rawSubject = (instance: string, subjectType: string, predicate: string): string =>
  `${RAW_SUBJECT_PREFIX}.${assertToken(instance, 'instance id')}.${assertToken(subjectType, 'subject type')}.${assertToken(predicate, 'predicate')}`;

/** Every raw subject of one instance: what its NATS permissions allow it to publish to. */
export const rawSubjectsOf = (instance: string): string =>
  `${RAW_SUBJECT_PREFIX}.${assertToken(instance, 'instance id')}.>`;

/** `cdevents.unified.<cluster token>.<subjectType>.<predicate>`: the hub's clean stream (`clusterToken`; '' is no cluster). */
export const unifiedSubject = (cluster: string, subjectType: string, predicate: string): string =>
  `${UNIFIED_SUBJECT_PREFIX}.${clusterToken(cluster)}.${assertToken(subjectType, 'subject type')}.${assertToken(predicate, 'predicate')}`;

/** `cdevents.dlq.<instance>`: dead letters of what one instance sent. */
export const dlqSubject = (instance: string): string => `${DLQ_SUBJECT_PREFIX}.${toToken(instance)}`;

export interface RawSubjectParts {
  readonly instance: string;
  readonly subjectType: string;
  readonly predicate: string;
}

/**
 * Reads the instance (and the type tokens) from a raw subject. The instance is trusted because
 * NATS permissions bind `cdevents.raw.<instance>.>` to that agent's credentials.
 */
export const parseRawSubject = (subject: string): RawSubjectParts => {
  const parts = subject.split('.');
  const [p0, p1, instance, subjectType, predicate] = parts;
  if (
    parts.length !== 5 ||
    `${p0}.${p1}` !== RAW_SUBJECT_PREFIX ||
    instance === undefined ||
    subjectType === undefined ||
    predicate === undefined ||
    !isToken(instance) ||
    !isToken(subjectType) ||
    !isToken(predicate)
  ) {
    throw new SubjectSchemeError(subject, `${RAW_SUBJECT_PREFIX}.<instance>.<subjectType>.<predicate>`);
  }
  return { instance, subjectType, predicate };
};

/**
 * The instance token of a raw subject, read leniently (the rest of the subject may break the
 * scheme: what quotas and dead letters group by); undefined for a subject outside CDEVENTS_RAW's.
 */
export const rawSubjectInstance = (subject: string): string | undefined => {
  if (!subject.startsWith(`${RAW_SUBJECT_PREFIX}.`)) return undefined;
  const instance = subject.slice(RAW_SUBJECT_PREFIX.length + 1).split('.')[0];
  return instance === '' ? undefined : instance;
};

/** The type tokens of a unified subject (`cdevents.unified.<cluster>.<subjectType>.<predicate>`), or undefined. */
export const unifiedSubjectTypes = (
  subject: string,
): { readonly subjectType: string; readonly predicate: string } | undefined => {
  if (!subject.startsWith(`${UNIFIED_SUBJECT_PREFIX}.`)) return undefined;
  const [, subjectType, predicate] = subject.slice(UNIFIED_SUBJECT_PREFIX.length + 1).split('.');
  return subjectType === undefined || predicate === undefined ? undefined : { subjectType, predicate };
};
