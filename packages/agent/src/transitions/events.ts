import { type CDEvent, createEvent, deterministicId } from '@argus/cdevents';
import type { DetectorContext } from './context.js';
import type { AppFacts } from './identity.js';

/**
 * The id of an occurrence: a UUIDv5 over the app's address (`context.source`) and what Argo CD
 * recorded about the occurrence, never over who observed it or when, so every observer derives it.
 */
export const occurrenceId = (facts: AppFacts, ...parts: string[]): string =>
  deterministicId([facts.source, ...parts]);

/** `customData` of every event: the Argo CD facts a consumer needs without asking Argo CD. */
export const argocdData = (facts: AppFacts, extra: Record<string, unknown>): Record<string, unknown> => {
  const { app } = facts;
  const destination = app.spec?.destination ?? {};
  return {
    argocd: {
      app: app.metadata.name,
      appNamespace: app.metadata.namespace ?? '',
      uid: facts.uid,
      project: app.spec?.project ?? '',
      syncStatus: app.status?.sync?.status ?? '',
      healthStatus: app.status?.health?.status ?? '',
      destination: {
        server: destination.server ?? '',
        name: destination.name ?? '',
        namespace: destination.namespace ?? '',
      },
      cluster: facts.cluster,
      ...extra,
    },
  };
};

export type ServiceChange = 'service.deployed' | 'service.upgraded' | 'service.rolledback';

export const serviceEvent = (
  kind: ServiceChange | 'service.removed',
  facts: AppFacts,
  id: string,
  timestamp: string,
  artifactId: string | undefined,
  ctx: DetectorContext,
  extra: Record<string, unknown>,
): CDEvent =>
  createEvent({
    type: kind,
    specVersion: ctx.specVersion,
    id,
    source: facts.source,
    timestamp,
    subject: {
      id: facts.service,
      source: facts.source,
      content: {
        environment: { id: facts.environmentId, source: facts.environmentSource },
        ...(artifactId === undefined ? {} : { artifactId }),
      },
    },
    customData: argocdData(facts, extra),
    customDataContentType: 'application/json',
  }) as CDEvent;

export type IncidentCause = 'sync' | 'health' | 'condition';

export const incidentEvent = (
  kind: 'incident.detected' | 'incident.resolved',
  facts: AppFacts,
  incidentId: string,
  timestamp: string,
  description: string,
  ctx: DetectorContext,
  extra: Record<string, unknown> & { cause: IncidentCause },
): CDEvent =>
  createEvent({
    type: kind,
    specVersion: ctx.specVersion,
    id: deterministicId([facts.source, kind, incidentId]),
    source: facts.source,
    timestamp,
    subject: {
      id: incidentId,
      source: facts.source,
      content: {
        description,
        environment: { id: facts.environmentId, source: facts.environmentSource },
        service: { id: facts.service, source: facts.source },
      },
    },
    customData: argocdData(facts, extra),
    customDataContentType: 'application/json',
  }) as CDEvent;
