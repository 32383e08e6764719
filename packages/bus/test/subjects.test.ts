import { createEvent } from '@argus/cdevents';
import { describe, expect, test } from 'vitest';
import { InvalidTokenError } from '../src/errors.js';
import {
  clusterToken,
  destinationClaim,
  dlqSubject,
  isToken,
  NO_CLUSTER_TOKEN,
  parseRawSubject,
  rawMessage,
  rawMessageId,
  rawSubject,
  rawSubjectInstance,
  SubjectSchemeError,
  toToken,
  typeTokens,
  unifiedSubject,
  unifiedSubjectTypes,
} from '../src/index.js';
import { streamConfigs, streamDrift } from '../src/streams.js';

describe('subjects', () => {
  test('raw, unified and dlq subjects follow the scheme', () => {
    expect(rawSubject('prod-eu', 'service', 'deployed')).toBe('cdevents.raw.prod-eu.service.deployed');
    expect(unifiedSubject('prod-eu', 'service', 'deployed')).toBe(
      'cdevents.unified.prod-eu.service.deployed',
    );
    expect(unifiedSubject('prod.eu/1', 'service', 'deployed')).toMatch(
      /^cdevents\.unified\.prod_eu_1-x[0-9a-f]{32}\.service\.deployed$/,
    );
    expect(unifiedSubject('', 'service', 'deployed')).toBe('cdevents.unified.unassigned.service.deployed');
    expect(dlqSubject('a.b')).toBe('cdevents.dlq.a_b');
  });

  test('instance ids that could escape their subject are refused', () => {
    for (const bad of ['', 'a.b', 'a*', 'a>', 'a b', 'x'.repeat(65)]) {
      expect(() => rawSubject(bad, 'service', 'deployed')).toThrow(InvalidTokenError);
    }
  });

  test('parseRawSubject reads the instance and refuses other shapes', () => {
    expect(parseRawSubject('cdevents.raw.i1.service.deployed')).toEqual({
      instance: 'i1',
      subjectType: 'service',
      predicate: 'deployed',
    });
    for (const bad of [
      'cdevents.raw.i1.service',
      'cdevents.unified.i1.service.deployed',
      'cdevents.raw.i1.a.b.c',
    ]) {
      expect(() => parseRawSubject(bad)).toThrow(SubjectSchemeError);
    }
  });

  test('toToken maps any cluster name to one safe token', () => {
    expect(toToken('https://10.0.0.1:6443')).toBe('https___10_0_0_1_6443');
    expect(toToken('')).toBe('_');
  });

  test('clusterToken is one-to-one: names that collide under toToken get distinct tokens', () => {
    // Finding 6 of adversarial review 2: all of these were routed to cdevents.unified.prod_eu.
    const names = ['prod_eu', 'prod.eu', 'prod eu', 'prod/eu', 'prod-*', 'prod->', 'prod-_'];
    const tokens = names.map(clusterToken);
    expect(new Set(tokens).size).toBe(names.length);
    expect(clusterToken('prod_eu')).toBe('prod_eu');
    expect(clusterToken('prod-_')).toBe('prod-_');
    for (const token of tokens) expect(isToken(token), token).toBe(true);
    // A name cannot take the no-cluster token, nor the token another name was mapped to.
    expect(clusterToken('')).toBe(NO_CLUSTER_TOKEN);
    expect(clusterToken(NO_CLUSTER_TOKEN)).not.toBe(NO_CLUSTER_TOKEN);
    const mapped = clusterToken('prod.eu');
    expect(clusterToken(mapped)).not.toBe(mapped);
    // Long names keep distinct tokens within the 64-character limit, and the same name the same token.
    const long = ['x'.repeat(100), `${'x'.repeat(99)}y`].map(clusterToken);
    expect(long[0]).not.toBe(long[1]);
    expect(long.every((t) => t.length <= 64 && isToken(t))).toBe(true);
    expect(clusterToken('arn:aws:eks:us-east-1:1:cluster/prod')).toBe(
      clusterToken('arn:aws:eks:us-east-1:1:cluster/prod'),
    );
  });

  test('raw message ids are scoped to the instance and, with a key, unguessable without it', () => {
    const plain = rawMessageId('argo-us', '/argocd/prod-us/a/b', 'id-1');
    expect(rawMessageId('argo-eu', '/argocd/prod-us/a/b', 'id-1')).not.toBe(plain);
    expect(rawMessageId('argo-us', '/argocd/prod-us/a/b', 'id-1')).toBe(plain);
    const keyed = rawMessageId('argo-us', '/argocd/prod-us/a/b', 'id-1', 'secret-1');
    expect(keyed).not.toBe(plain);
    expect(rawMessageId('argo-us', '/argocd/prod-us/a/b', 'id-1', 'secret-2')).not.toBe(keyed);
    expect(rawMessageId('argo-us', '/argocd/prod-us/a/b', 'id-1', 'secret-1')).toBe(keyed);
    expect(keyed).toMatch(/^[0-9a-f]{32}$/);
  });

  test('typeTokens of known and custom types', () => {
    expect(typeTokens('dev.cdevents.service.deployed.0.3.0')).toEqual({
      subjectType: 'service',
      predicate: 'deployed',
    });
    expect(typeTokens('dev.cdeventsx.mytool-resource.created.0.1.0')).toEqual({
      subjectType: 'mytool-resource',
      predicate: 'created',
    });
  });

  test('rawMessage carries the binary-mode headers, the destination and the per-publisher message id', () => {
    const event = createEvent({
      type: 'service.deployed',
      source: '/argocd/prod/podinfo',
      id: 'x1',
      subject: { id: 'podinfo', content: { environment: { id: 'prod' }, artifactId: 'pkg:oci/podinfo' } },
    });
    const m = rawMessage(event, { instance: 'argo-1', cluster: 'prod-eu' });
    expect(m.subject).toBe('cdevents.raw.argo-1.service.deployed');
    expect(m.headers.get('ce-type')).toBe('dev.cdevents.service.deployed.0.3.0');
    // The agent's claim has its own header; Argus-Cluster is the hub's tag on the unified stream.
    expect(m.headers.get('Argus-Destination-Cluster')).toBe('prod-eu');
    expect(m.headers.get('Argus-Cluster')).toBe('');
    expect(m.headers.get('Argus-Architecture')).toBe('');
    expect(m.headers.get('Nats-Msg-Id')).toBe(m.msgId);
    expect(m.msgId).toBe(rawMessageId('argo-1', '/argocd/prod/podinfo', 'x1'));
    expect(rawMessage(event, { instance: 'argo-1', msgIdKey: 'k' }).headers.get('Nats-Msg-Id')).toBe(
      rawMessageId('argo-1', '/argocd/prod/podinfo', 'x1', 'k'),
    );
    expect(JSON.parse(new TextDecoder().decode(m.data))).toEqual(event);
  });
});

describe('stream configs and drift', () => {
  test('a duplicate window under 10 minutes is refused', () => {
    expect(() => streamConfigs({ duplicateWindowMs: 60_000 })).toThrow(/at least 600000/);
  });

  test('drift separates breaking from tuning differences', () => {
    const raw = streamConfigs().CDEVENTS_RAW;
    if (raw === undefined) throw new Error('no raw config');
    const actual = {
      ...raw,
      subjects: ['cdevents.raw.only-one.>'],
      max_age: 1,
      duplicate_window: 120 * 1e9,
    } as Parameters<typeof streamDrift>[1];
    const drift = streamDrift(raw, actual);
    expect(drift.find((d) => d.field === 'subjects')?.breaking).toBe(true);
    expect(drift.find((d) => d.field === 'duplicate_window')?.breaking).toBe(true);
    expect(drift.find((d) => d.field === 'max_age')?.breaking).toBe(false);
    expect(streamDrift(raw, raw as Parameters<typeof streamDrift>[1])).toEqual([]);
  });
});

describe('destinationClaim', () => {
  const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name] ?? '' });

  test('reads Argus-Destination-Cluster, and Argus-Cluster from agents of release 0.1', () => {
    expect(destinationClaim(headers({ 'Argus-Destination-Cluster': 'prod-eu' }))).toBe('prod-eu');
    expect(destinationClaim(headers({ 'Argus-Cluster': 'prod-us' }))).toBe('prod-us');
    expect(
      destinationClaim(headers({ 'Argus-Destination-Cluster': 'prod-eu', 'Argus-Cluster': 'prod-us' })),
    ).toBe('prod-eu');
    expect(destinationClaim(headers({}))).toBeUndefined();
    expect(destinationClaim(undefined)).toBeUndefined();
  });
});

describe('lenient subject readers', () => {
  test('rawSubjectInstance reads the instance of any raw subject, even one breaking the scheme', () => {
    expect(rawSubjectInstance('cdevents.raw.argo-1.service.deployed')).toBe('argo-1');
    expect(rawSubjectInstance('cdevents.raw.argo$x.service.deployed.extra')).toBe('argo$x');
    expect(rawSubjectInstance('cdevents.unified.prod.service.deployed')).toBeUndefined();
    expect(rawSubjectInstance('cdevents.raw.')).toBeUndefined();
  });

  test('unifiedSubjectTypes reads the type tokens of a unified subject', () => {
    expect(unifiedSubjectTypes(unifiedSubject('prod.eu', 'service', 'deployed'))).toEqual({
      subjectType: 'service',
      predicate: 'deployed',
    });
    expect(unifiedSubjectTypes('cdevents.raw.argo-1.service.deployed')).toBeUndefined();
  });
});
