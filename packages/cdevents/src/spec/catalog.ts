/**
 * Every CDEvents event type of spec v0.4.1 and v0.5.1: its type version and subject content,
 * written from the specification (cdevents/spec, Apache-2.0). One entry per `<subject>.<predicate>`.
 * The conformance suite checks each entry against the official JSON schemas.
 */
import {
  array,
  nonEmpty,
  type ObjectNode,
  object,
  oneOf,
  openObject,
  optional,
  required,
  str,
  suggested,
  uri,
  uriRef,
} from '../schema/nodes.js';

export const SPEC_VERSIONS = ['0.4.1', '0.5.1'] as const;
export type SpecVersion = (typeof SPEC_VERSIONS)[number];
/** The newest released spec version: what builders produce unless told otherwise. */
export const DEFAULT_SPEC_VERSION = '0.5.1' satisfies SpecVersion;

/**
 * How `context.source` and `subject.source` are constrained: URI references, or (test* subjects)
 * plain strings, as the spec's schemas have it.
 */
export type SubjectSourceRule = 'uri-reference' | 'string';

export interface VersionDefinition {
  /** The event type's own version, e.g. `0.3.0` in `dev.cdevents.service.deployed.0.3.0`. */
  readonly typeVersion: string;
  readonly content: ObjectNode;
}

export interface EventDefinition {
  /** The subject as spelled in the type string (`pipelinerun`). */
  readonly subject: string;
  readonly predicate: string;
  /** The subject as spelled in `subject.type` of v0.4.1 (`pipelineRun`). */
  readonly subjectType: string;
  readonly subjectSource: SubjectSourceRule;
  /** Spec versions whose schema also allows an optional `subject.type` (v0.5.1 kept it on ticket.closed). */
  readonly optionalSubjectTypeIn?: readonly SpecVersion[];
  readonly versions: Readonly<Record<SpecVersion, VersionDefinition>>;
}

const define = <const D extends EventDefinition>(definition: D): D => definition;

// Shapes shared by many types. Functions, so each use is its own object.
const ref = () => object({ id: required(nonEmpty()), source: optional(uriRef({ minLength: 1 })) });
const looseRef = () => object({ id: required(nonEmpty()), source: optional(str()) });
const sbom = () => object({ uri: required(uriRef({ minLength: 1 })) });
const testCase = () =>
  object({
    id: required(nonEmpty()),
    version: optional(str()),
    name: optional(str()),
    type: optional(
      oneOf(['performance', 'functional', 'unit', 'security', 'compliance', 'integration', 'e2e', 'other']),
    ),
    uri: optional(uri()),
  });
const testSuiteWithUri = () =>
  object({ id: required(nonEmpty()), version: optional(str()), name: optional(str()), uri: optional(uri()) });
// v0.4.1 spelled it `url` in testsuiterun.queued only.
const testSuiteWithUrl = () =>
  object({ id: required(nonEmpty()), version: optional(str()), name: optional(str()), url: optional(uri()) });
const trigger = () =>
  openObject({
    type: optional(oneOf(['manual', 'pipeline', 'event', 'schedule', 'other'])),
    uri: optional(uri()),
  });
const severity = () => oneOf(['low', 'medium', 'high', 'critical']);
const outcome05 = () => oneOf(['success', 'failure', 'cancel', 'error']);
const outcome04 = () => oneOf(['pass', 'fail', 'cancel', 'error']);
const ticketType = () => suggested(['bug', 'enhancement', 'incident', 'task', 'question']);
const ticketPriority = () => suggested(['low', 'medium', 'high']);

const incident = () =>
  object({
    description: optional(str()),
    environment: required(ref()),
    service: optional(ref()),
    artifactId: optional(nonEmpty()),
  });
// repository.modified and repository.deleted: every field optional; v0.5.1 renamed url to uri (a URI).
const repositoryChanged = {
  '0.4.1': () =>
    object({ name: optional(str()), owner: optional(str()), url: optional(str()), viewUrl: optional(str()) }),
  '0.5.1': () =>
    object({ name: optional(str()), owner: optional(str()), uri: optional(uri()), viewUrl: optional(uri()) }),
};
const testCaseRunStarted = () =>
  object({
    trigger: optional(trigger()),
    environment: required(ref()),
    testSuiteRun: optional(looseRef()),
    testCase: optional(testCase()),
  });

/** Most types did not change shape between the two spec versions: only their type version. */
const same = <const C extends ObjectNode, const A extends string, const B extends string>(
  v041: A,
  v051: B,
  content: () => C,
) => ({
  '0.4.1': { typeVersion: v041, content: content() },
  '0.5.1': { typeVersion: v051, content: content() },
});

const uriSource = 'uri-reference' as const;

export const CATALOG = {
  // --- artifact ---------------------------------------------------------------------------
  'artifact.deleted': define({
    subject: 'artifact',
    predicate: 'deleted',
    subjectType: 'artifact',
    subjectSource: uriSource,
    versions: same('0.1.0', '0.2.0', () => object({ user: optional(nonEmpty()) })),
  }),
  'artifact.downloaded': define({
    subject: 'artifact',
    predicate: 'downloaded',
    subjectType: 'artifact',
    subjectSource: uriSource,
    versions: same('0.1.0', '0.2.0', () => object({ user: optional(nonEmpty()) })),
  }),
  'artifact.packaged': define({
    subject: 'artifact',
    predicate: 'packaged',
    subjectType: 'artifact',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () => object({ change: required(ref()), sbom: optional(sbom()) })),
  }),
  'artifact.published': define({
    subject: 'artifact',
    predicate: 'published',
    subjectType: 'artifact',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () => object({ sbom: optional(sbom()), user: optional(nonEmpty()) })),
  }),
  'artifact.signed': define({
    subject: 'artifact',
    predicate: 'signed',
    subjectType: 'artifact',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () => object({ signature: required(nonEmpty()) })),
  }),
  // --- branch -----------------------------------------------------------------------------
  'branch.created': define({
    subject: 'branch',
    predicate: 'created',
    subjectType: 'branch',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () => object({ repository: optional(ref()) })),
  }),
  'branch.deleted': define({
    subject: 'branch',
    predicate: 'deleted',
    subjectType: 'branch',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () => object({ repository: optional(ref()) })),
  }),
  // --- build ------------------------------------------------------------------------------
  'build.queued': define({
    subject: 'build',
    predicate: 'queued',
    subjectType: 'build',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () => object({})),
  }),
  'build.started': define({
    subject: 'build',
    predicate: 'started',
    subjectType: 'build',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () => object({})),
  }),
  'build.finished': define({
    subject: 'build',
    predicate: 'finished',
    subjectType: 'build',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () => object({ artifactId: optional(str()) })),
  }),
  // --- change -----------------------------------------------------------------------------
  'change.created': define({
    subject: 'change',
    predicate: 'created',
    subjectType: 'change',
    subjectSource: uriSource,
    versions: same('0.3.0', '0.4.0', () =>
      object({ description: optional(nonEmpty()), repository: optional(ref()) }),
    ),
  }),
  'change.updated': define({
    subject: 'change',
    predicate: 'updated',
    subjectType: 'change',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () => object({ repository: optional(ref()) })),
  }),
  'change.reviewed': define({
    subject: 'change',
    predicate: 'reviewed',
    subjectType: 'change',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () => object({ repository: optional(ref()) })),
  }),
  'change.merged': define({
    subject: 'change',
    predicate: 'merged',
    subjectType: 'change',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () => object({ repository: optional(ref()) })),
  }),
  'change.abandoned': define({
    subject: 'change',
    predicate: 'abandoned',
    subjectType: 'change',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () => object({ repository: optional(ref()) })),
  }),
  // --- environment ------------------------------------------------------------------------
  'environment.created': define({
    subject: 'environment',
    predicate: 'created',
    subjectType: 'environment',
    subjectSource: uriSource,
    versions: {
      '0.4.1': { typeVersion: '0.2.0', content: object({ name: optional(str()), url: optional(str()) }) },
      '0.5.1': { typeVersion: '0.3.0', content: object({ name: optional(str()), uri: optional(uri()) }) },
    },
  }),
  'environment.modified': define({
    subject: 'environment',
    predicate: 'modified',
    subjectType: 'environment',
    subjectSource: uriSource,
    versions: {
      '0.4.1': { typeVersion: '0.2.0', content: object({ name: optional(str()), url: optional(str()) }) },
      '0.5.1': { typeVersion: '0.3.0', content: object({ name: optional(str()), uri: optional(uri()) }) },
    },
  }),
  'environment.deleted': define({
    subject: 'environment',
    predicate: 'deleted',
    subjectType: 'environment',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () => object({ name: optional(str()) })),
  }),
  // --- incident ---------------------------------------------------------------------------
  'incident.detected': define({
    subject: 'incident',
    predicate: 'detected',
    subjectType: 'incident',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', incident),
  }),
  'incident.reported': define({
    subject: 'incident',
    predicate: 'reported',
    subjectType: 'incident',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () =>
      object({
        description: optional(str()),
        environment: required(ref()),
        ticketURI: required(uri({ minLength: 1 })),
        service: optional(ref()),
        artifactId: optional(nonEmpty()),
      }),
    ),
  }),
  'incident.resolved': define({
    subject: 'incident',
    predicate: 'resolved',
    subjectType: 'incident',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', incident),
  }),
  // --- pipelinerun ------------------------------------------------------------------------
  'pipelinerun.queued': define({
    subject: 'pipelinerun',
    predicate: 'queued',
    subjectType: 'pipelineRun',
    subjectSource: uriSource,
    versions: {
      '0.4.1': {
        typeVersion: '0.2.0',
        content: object({ pipelineName: optional(str()), url: optional(str()) }),
      },
      '0.5.1': {
        typeVersion: '0.3.0',
        content: object({ pipelineName: optional(str()), uri: optional(uri()) }),
      },
    },
  }),
  'pipelinerun.started': define({
    subject: 'pipelinerun',
    predicate: 'started',
    subjectType: 'pipelineRun',
    subjectSource: uriSource,
    versions: {
      '0.4.1': {
        typeVersion: '0.2.0',
        content: object({ pipelineName: required(str()), url: required(str()) }),
      },
      '0.5.1': {
        typeVersion: '0.3.0',
        content: object({ pipelineName: required(str()), uri: required(uri()) }),
      },
    },
  }),
  'pipelinerun.finished': define({
    subject: 'pipelinerun',
    predicate: 'finished',
    subjectType: 'pipelineRun',
    subjectSource: uriSource,
    versions: {
      '0.4.1': {
        typeVersion: '0.2.0',
        content: object({
          pipelineName: optional(str()),
          url: optional(str()),
          outcome: optional(str()),
          errors: optional(str()),
        }),
      },
      '0.5.1': {
        typeVersion: '0.3.0',
        content: object({
          pipelineName: optional(str()),
          uri: optional(uri()),
          outcome: optional(outcome05()),
          errors: optional(str()),
        }),
      },
    },
  }),
  // --- repository -------------------------------------------------------------------------
  'repository.created': define({
    subject: 'repository',
    predicate: 'created',
    subjectType: 'repository',
    subjectSource: uriSource,
    versions: {
      '0.4.1': {
        typeVersion: '0.2.0',
        content: object({
          name: required(nonEmpty()),
          owner: optional(str()),
          url: required(nonEmpty()),
          viewUrl: optional(str()),
        }),
      },
      '0.5.1': {
        typeVersion: '0.3.0',
        content: object({
          name: required(nonEmpty()),
          owner: optional(str()),
          uri: required(uri()),
          viewUrl: optional(uri()),
        }),
      },
    },
  }),
  'repository.modified': define({
    subject: 'repository',
    predicate: 'modified',
    subjectType: 'repository',
    subjectSource: uriSource,
    versions: {
      '0.4.1': { typeVersion: '0.2.0', content: repositoryChanged['0.4.1']() },
      '0.5.1': { typeVersion: '0.3.0', content: repositoryChanged['0.5.1']() },
    },
  }),
  'repository.deleted': define({
    subject: 'repository',
    predicate: 'deleted',
    subjectType: 'repository',
    subjectSource: uriSource,
    versions: {
      '0.4.1': { typeVersion: '0.2.0', content: repositoryChanged['0.4.1']() },
      '0.5.1': { typeVersion: '0.3.0', content: repositoryChanged['0.5.1']() },
    },
  }),
  // --- service ----------------------------------------------------------------------------
  'service.deployed': define({
    subject: 'service',
    predicate: 'deployed',
    subjectType: 'service',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () =>
      object({ environment: required(ref()), artifactId: required(nonEmpty()) }),
    ),
  }),
  'service.upgraded': define({
    subject: 'service',
    predicate: 'upgraded',
    subjectType: 'service',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () =>
      object({ environment: required(ref()), artifactId: required(nonEmpty()) }),
    ),
  }),
  'service.rolledback': define({
    subject: 'service',
    predicate: 'rolledback',
    subjectType: 'service',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () =>
      object({ environment: required(ref()), artifactId: required(nonEmpty()) }),
    ),
  }),
  'service.removed': define({
    subject: 'service',
    predicate: 'removed',
    subjectType: 'service',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () => object({ environment: optional(ref()) })),
  }),
  'service.published': define({
    subject: 'service',
    predicate: 'published',
    subjectType: 'service',
    subjectSource: uriSource,
    versions: same('0.2.0', '0.3.0', () => object({ environment: optional(ref()) })),
  }),
  // --- taskrun ----------------------------------------------------------------------------
  'taskrun.started': define({
    subject: 'taskrun',
    predicate: 'started',
    subjectType: 'taskRun',
    subjectSource: uriSource,
    versions: {
      '0.4.1': {
        typeVersion: '0.2.0',
        content: object({ taskName: optional(str()), url: optional(str()), pipelineRun: optional(ref()) }),
      },
      '0.5.1': {
        typeVersion: '0.3.0',
        content: object({ taskName: optional(str()), uri: optional(uri()), pipelineRun: optional(ref()) }),
      },
    },
  }),
  'taskrun.finished': define({
    subject: 'taskrun',
    predicate: 'finished',
    subjectType: 'taskRun',
    subjectSource: uriSource,
    versions: {
      '0.4.1': {
        typeVersion: '0.2.0',
        content: object({
          taskName: optional(str()),
          url: optional(str()),
          pipelineRun: optional(ref()),
          outcome: optional(str()),
          errors: optional(str()),
        }),
      },
      '0.5.1': {
        typeVersion: '0.3.0',
        content: object({
          taskName: optional(str()),
          uri: optional(uri()),
          pipelineRun: optional(ref()),
          outcome: optional(str()),
          errors: optional(str()),
        }),
      },
    },
  }),
  // --- testcaserun ------------------------------------------------------------------------
  'testcaserun.queued': define({
    subject: 'testcaserun',
    predicate: 'queued',
    subjectType: 'testCaseRun',
    subjectSource: 'string',
    versions: same('0.2.0', '0.3.0', testCaseRunStarted),
  }),
  'testcaserun.started': define({
    subject: 'testcaserun',
    predicate: 'started',
    subjectType: 'testCaseRun',
    subjectSource: 'string',
    versions: same('0.2.0', '0.3.0', testCaseRunStarted),
  }),
  'testcaserun.finished': define({
    subject: 'testcaserun',
    predicate: 'finished',
    subjectType: 'testCaseRun',
    subjectSource: 'string',
    versions: {
      '0.4.1': {
        typeVersion: '0.2.0',
        content: object({
          outcome: required(outcome04()),
          severity: optional(severity()),
          reason: optional(str()),
          environment: required(ref()),
          testSuiteRun: optional(looseRef()),
          testCase: optional(testCase()),
        }),
      },
      '0.5.1': {
        typeVersion: '0.3.0',
        content: object({
          outcome: required(outcome05()),
          severity: optional(severity()),
          reason: optional(str()),
          environment: required(ref()),
          testSuiteRun: optional(looseRef()),
          testCase: optional(testCase()),
        }),
      },
    },
  }),
  'testcaserun.skipped': define({
    subject: 'testcaserun',
    predicate: 'skipped',
    subjectType: 'testCaseRun',
    subjectSource: 'string',
    versions: same('0.1.0', '0.2.0', () =>
      object({
        reason: optional(str()),
        environment: optional(ref()),
        testSuiteRun: optional(looseRef()),
        testCase: optional(testCase()),
      }),
    ),
  }),
  // --- testsuiterun -----------------------------------------------------------------------
  'testsuiterun.queued': define({
    subject: 'testsuiterun',
    predicate: 'queued',
    subjectType: 'testSuiteRun',
    subjectSource: 'string',
    versions: {
      '0.4.1': {
        typeVersion: '0.2.0',
        content: object({
          trigger: optional(trigger()),
          environment: required(ref()),
          testSuite: optional(testSuiteWithUrl()),
        }),
      },
      '0.5.1': {
        typeVersion: '0.3.0',
        content: object({
          trigger: optional(trigger()),
          environment: required(ref()),
          testSuite: optional(testSuiteWithUri()),
        }),
      },
    },
  }),
  'testsuiterun.started': define({
    subject: 'testsuiterun',
    predicate: 'started',
    subjectType: 'testSuiteRun',
    subjectSource: 'string',
    versions: same('0.2.0', '0.3.0', () =>
      object({
        trigger: optional(trigger()),
        environment: required(ref()),
        testSuite: optional(testSuiteWithUri()),
      }),
    ),
  }),
  'testsuiterun.finished': define({
    subject: 'testsuiterun',
    predicate: 'finished',
    subjectType: 'testSuiteRun',
    subjectSource: 'string',
    versions: {
      '0.4.1': {
        typeVersion: '0.2.0',
        content: object({
          environment: required(ref()),
          testSuite: optional(testSuiteWithUri()),
          outcome: required(outcome04()),
          severity: optional(severity()),
          reason: optional(str()),
        }),
      },
      '0.5.1': {
        typeVersion: '0.3.0',
        content: object({
          environment: required(ref()),
          testSuite: optional(testSuiteWithUri()),
          outcome: required(outcome05()),
          severity: optional(severity()),
          reason: optional(str()),
        }),
      },
    },
  }),
  // --- testoutput -------------------------------------------------------------------------
  'testoutput.published': define({
    subject: 'testoutput',
    predicate: 'published',
    subjectType: 'testOutput',
    subjectSource: 'string',
    versions: same('0.2.0', '0.3.0', () =>
      object({
        outputType: required(oneOf(['report', 'video', 'image', 'log', 'other'])),
        format: required(str()),
        uri: optional(uri()),
        testCaseRun: optional(looseRef()),
      }),
    ),
  }),
  // --- ticket -----------------------------------------------------------------------------
  'ticket.created': define({
    subject: 'ticket',
    predicate: 'created',
    subjectType: 'ticket',
    subjectSource: uriSource,
    versions: same('0.1.0', '0.2.0', () =>
      object({
        summary: required(str()),
        ticketType: optional(ticketType()),
        group: optional(str()),
        creator: required(nonEmpty()),
        assignees: optional(array(str())),
        priority: optional(ticketPriority()),
        labels: optional(array(str())),
        milestone: optional(str()),
        uri: required(uriRef({ minLength: 1 })),
      }),
    ),
  }),
  'ticket.updated': define({
    subject: 'ticket',
    predicate: 'updated',
    subjectType: 'ticket',
    subjectSource: uriSource,
    versions: same('0.1.0', '0.2.0', () =>
      object({
        summary: optional(str()),
        ticketType: optional(ticketType()),
        group: optional(str()),
        creator: optional(nonEmpty()),
        assignees: optional(array(str())),
        priority: optional(ticketPriority()),
        labels: optional(array(str())),
        milestone: optional(str()),
        updatedBy: optional(str()),
        uri: required(uriRef({ minLength: 1 })),
      }),
    ),
  }),
  'ticket.closed': define({
    subject: 'ticket',
    predicate: 'closed',
    subjectType: 'ticket',
    subjectSource: uriSource,
    optionalSubjectTypeIn: ['0.5.1'],
    versions: same('0.1.0', '0.2.0', () =>
      object({
        summary: optional(str()),
        ticketType: optional(ticketType()),
        group: optional(str()),
        creator: optional(nonEmpty()),
        assignees: optional(array(str())),
        priority: optional(ticketPriority()),
        labels: optional(array(str())),
        milestone: optional(str()),
        uri: required(uriRef({ minLength: 1 })),
        resolution: required(suggested(['completed', 'withdrawn', 'duplicate'], 1)),
        updatedBy: optional(str()),
      }),
    ),
  }),
} as const satisfies Record<string, EventDefinition>;

export type Catalog = typeof CATALOG;
/** `<subject>.<predicate>`, e.g. `service.deployed`. */
export type EventKey = keyof Catalog;
export const EVENT_KEYS = Object.keys(CATALOG) as EventKey[];
