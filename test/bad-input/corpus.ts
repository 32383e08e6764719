/**
 * A generated corpus of bad input for the three ways into Argus: the agent's Notifications webhook,
 * the hub's HTTP ingest, and the raw stream CDEVENTS_RAW. Each kind says, per entry point, what to
 * send and how it must be refused (an HTTP status and reason, or a dead letter), or, for spoofed
 * claims, which tags the stored event must carry whatever the payload says.
 */
import { createEvent, serialize, toHttpBinary, toHttpStructured, toNatsBinary } from '@argus/cdevents';
import type { DeadLetterReason } from '@argus/hub';

export const ENTRY_POINTS = ['webhook', 'ingest', 'raw'] as const;
export type EntryPoint = (typeof ENTRY_POINTS)[number];

/** One HTTP request to the webhook receiver or the ingest. */
export interface HttpProbe {
  /** @default 'POST' */
  readonly method?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  /** Stream the body in chunks without a content-length. */
  readonly chunked?: boolean;
  /** Leave out the bearer token, or send a wrong one. Default: the right token. */
  readonly auth?: 'missing' | 'wrong';
}

/** One message published straight onto the raw stream, as a misbehaving agent would. */
export interface RawProbe {
  readonly subject: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly data: Uint8Array;
}

export type Expected =
  /** Refused at the door: the status, and a fragment of the answer's `error` (plus its `reason`, when it has one). */
  | { readonly http: number; readonly reason?: string; readonly text: string }
  /**
   * A dead letter on CDEVENTS_DLQ with these headers. Through an HTTP entry point the request is
   * first accepted (202) and the hub refuses it; `eventId` finds the dead letter by its `ce-id`.
   */
  | {
      readonly dlq: DeadLetterReason;
      readonly errorClass: string;
      readonly detail: string;
      readonly eventId?: string;
    }
  /** Accepted and stored once, tagged with who published it, whatever the payload claims. */
  | { readonly stored: { readonly instance: string; readonly cluster: string }; readonly eventId: string };

export type Probe<I> = { readonly input: I; readonly expect: Expected } | { readonly notApplicable: string };

export interface BadInputCase {
  readonly kind: string;
  readonly webhook: Probe<HttpProbe>;
  readonly ingest: Probe<HttpProbe>;
  readonly raw: Probe<RawProbe>;
}

/** Who is who in the test's world, and the limits both processes run with. */
export interface CorpusContext {
  /** The instance whose raw subject the misbehaving agent publishes on, and its only registry cluster. */
  readonly rawInstance: string;
  readonly rawCluster: string;
  /** The webhook agent's instance and its `--cluster`. */
  readonly webhookInstance: string;
  readonly webhookCluster: string;
  /** The ingest producer of the bearer token used. */
  readonly ingestProducer: string;
  /** Another instance and cluster the payloads pretend to be. */
  readonly otherInstance: string;
  readonly otherCluster: string;
  /** `--max-event-bytes` of the hub and the agent. */
  readonly maxEventBytes: number;
}

type Json = Record<string, unknown>;

const encoder = new TextEncoder();
const utf8 = (text: string): Uint8Array => encoder.encode(text);
const JSON_TYPE = { 'content-type': 'application/json' };
/**
 * The source of the corpus's events: not an /argocd/<cluster>/ one, which only the instances owning
 * that cluster may publish (the ownership checks have their own test, test/deploy/nats-permissions).
 */
export const CORPUS_SOURCE_PREFIX = '/corpus/';
const SOURCE = `${CORPUS_SOURCE_PREFIX}podinfo/podinfo`;
export const DEPLOYED = 'dev.cdevents.service.deployed.0.3.0';

/** An hour ago, to the second: within the hub's accepted range (400 days back) whenever the tests run. */
const RECENT = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000).toISOString().replace('.000Z', 'Z');

/** A valid service.deployed with the given id: what every valid event and most bad ones start from. */
export const deployedEvent = (id: string, customData?: Json) =>
  createEvent({
    type: 'service.deployed',
    id,
    source: SOURCE,
    timestamp: RECENT,
    subject: {
      id: 'podinfo',
      content: { environment: { id: 'prod-eu/podinfo' }, artifactId: 'pkg:oci/podinfo@6.9.2' },
    },
    ...(customData === undefined ? {} : { customData }),
  });

/** The event as plain JSON, to break. */
const mutable = (id: string): Json & { context: Json; subject: Json } =>
  JSON.parse(serialize(deployedEvent(id))) as Json & { context: Json; subject: Json };

/** The id of the bad (or spoofing) event a kind sends through one entry point: unique across the run. */
export const badId = (kind: string, entry: EntryPoint): string => `bad-${kind}-${entry}`;
export const spoofId = (kind: string, entry: EntryPoint): string => `spoof-${kind}-${entry}`;

/** `text` with `marker` (inside a JSON string) replaced by raw bytes. */
const withBytes = (text: string, marker: string, bytes: readonly number[]): Uint8Array => {
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`marker ${marker} not in ${text.slice(0, 80)}`);
  return Uint8Array.from([...utf8(text.slice(0, at)), ...bytes, ...utf8(text.slice(at + marker.length))]);
};

/** `depth` nested arrays: `[[[…]]]`. */
const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

const RAW_DEPLOYED = (ctx: CorpusContext) => `cdevents.raw.${ctx.rawInstance}.service.deployed`;

/**
 * The same bytes and the same refusal everywhere: a plain JSON body over HTTP, a header-less
 * message on the raw stream (the hub reads it as a bare CDEvent).
 */
const sameEverywhere =
  (
    body: (entry: EntryPoint) => Uint8Array,
    refusal: { reason: DeadLetterReason; errorClass: string; detail: string; httpText?: string },
    headers: Readonly<Record<string, string>> = JSON_TYPE,
  ) =>
  (entry: EntryPoint, ctx: CorpusContext): Probe<HttpProbe> | Probe<RawProbe> => {
    const data = body(entry);
    if (entry === 'raw') {
      const { 'content-type': _, ...natsHeaders } = headers;
      return {
        input: { subject: RAW_DEPLOYED(ctx), headers: natsHeaders, data },
        expect: { dlq: refusal.reason, errorClass: refusal.errorClass, detail: refusal.detail },
      };
    }
    return {
      input: { headers, body: data },
      expect: { http: 400, reason: refusal.reason, text: refusal.httpText ?? refusal.detail },
    };
  };

const STRUCTURED_TYPE = { 'content-type': 'application/cloudevents+json' };

/** A structured CloudEvent of type service.deployed around `data` (a CDEvent's JSON text). */
const envelope = (data: string): Uint8Array =>
  utf8(`{"specversion":"1.0","id":"x","source":"/x","type":"${DEPLOYED}","data":${data}}`);

/**
 * The same bytes in structured mode everywhere: the CloudEvents content type over HTTP and on the raw
 * stream alike, refused with the same reason (one admission rule set: `admitHttpEvents`, `admitNatsEvent`).
 */
const structuredEverywhere =
  (
    body: (entry: EntryPoint) => Uint8Array,
    raw: { dlq: DeadLetterReason; errorClass: string; detail: string },
    http: { reason: string; text: string },
  ) =>
  (entry: EntryPoint, ctx: CorpusContext): Probe<HttpProbe> | Probe<RawProbe> => {
    const data = body(entry);
    return entry === 'raw'
      ? { input: { subject: RAW_DEPLOYED(ctx), headers: STRUCTURED_TYPE, data }, expect: raw }
      : { input: { headers: STRUCTURED_TYPE, body: data }, expect: { http: 400, ...http } };
  };

/** A mutated copy of the valid event, refused the same way everywhere. */
const mutated = (
  mutate: (e: Json & { context: Json; subject: Json }) => void,
  refusal: { reason: DeadLetterReason; errorClass: string; detail: string; httpText?: string },
  kind: string,
) =>
  sameEverywhere((entry) => {
    const e = mutable(badId(kind, entry));
    mutate(e);
    return utf8(JSON.stringify(e));
  }, refusal);

type Builder = (entry: EntryPoint, ctx: CorpusContext) => Probe<HttpProbe> | Probe<RawProbe>;

/** A destination claim the registry refuses, sent under `header` (see 'spoofed-cluster-header'). */
const spoofedClusterClaim =
  (kind: string, header: string): Builder =>
  (entry, ctx) => {
    const id = entry === 'ingest' ? spoofId(kind, entry) : badId(kind, entry);
    const data = utf8(serialize(deployedEvent(id)));
    const claim = { [header]: ctx.otherCluster };
    const detail = `reported destination "${ctx.otherCluster}"`;
    if (entry === 'raw') {
      return {
        input: { subject: RAW_DEPLOYED(ctx), headers: claim, data },
        expect: { dlq: 'cluster-not-allowed', errorClass: 'RegistryPolicy', detail },
      };
    }
    if (entry === 'webhook') {
      return {
        input: { headers: { ...JSON_TYPE, ...claim }, body: data },
        expect: { dlq: 'cluster-not-allowed', errorClass: 'RegistryPolicy', detail, eventId: id },
      };
    }
    return {
      input: { headers: { ...JSON_TYPE, ...claim }, body: data },
      expect: { stored: { instance: ctx.ingestProducer, cluster: '' }, eventId: id },
    };
  };

/** Each kind of bad input, in the order the test sends them. */
const KINDS: Record<string, Builder> = {
  'invalid-json': sameEverywhere(() => utf8('{"context": {"id": '), {
    reason: 'malformed-json',
    errorClass: 'MalformedJsonError',
    detail: '(root): ',
    httpText: 'malformed JSON',
  }),

  'truncated-bytes': sameEverywhere(
    (entry) => {
      const whole = utf8(serialize(deployedEvent(badId('truncated-bytes', entry))));
      return whole.subarray(0, Math.floor(whole.length * 0.6));
    },
    {
      reason: 'malformed-json',
      errorClass: 'MalformedJsonError',
      detail: '(root): ',
      httpText: 'malformed JSON',
    },
  ),

  'empty-body': sameEverywhere(() => new Uint8Array(0), {
    reason: 'malformed-json',
    errorClass: 'MalformedJsonError',
    detail: '(root): ',
    httpText: 'malformed JSON',
  }),

  // HTTP: a body that is JSON under a type that is not. NATS has no content negotiation: there the
  // wrong type is a body that is not JSON at all (an XML rendering of the event).
  'wrong-content-type': (entry, ctx) => {
    if (entry === 'raw') {
      return {
        input: {
          subject: RAW_DEPLOYED(ctx),
          headers: { 'content-type': 'application/xml' },
          data: utf8(`<event><id>${badId('wrong-content-type', entry)}</id></event>`),
        },
        expect: { dlq: 'malformed-json', errorClass: 'MalformedJsonError', detail: '(root): ' },
      };
    }
    return {
      input: {
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: utf8(serialize(deployedEvent(badId('wrong-content-type', entry)))),
      },
      expect: { http: 415, text: 'content type' },
    };
  },

  // The structured content type over a bare CDEvent: the envelope is missing.
  'structured-type-bare-body': structuredEverywhere(
    (entry) => utf8(serialize(deployedEvent(badId('structured-type-bare-body', entry)))),
    { dlq: 'binding', errorClass: 'BindingError', detail: 'structured CloudEvent must be' },
    { reason: 'binding', text: 'structured CloudEvent' },
  ),

  'huge-payload': (entry, ctx) => {
    const blob = 'x'.repeat(ctx.maxEventBytes + 150_000);
    const data = utf8(serialize(deployedEvent(badId('huge-payload', entry), { blob })));
    if (entry === 'raw') {
      return {
        input: { subject: RAW_DEPLOYED(ctx), headers: {}, data },
        expect: {
          dlq: 'too-large',
          errorClass: 'PayloadTooLargeError',
          detail: `the limit is ${ctx.maxEventBytes} bytes`,
        },
      };
    }
    return {
      input: { headers: JSON_TYPE, body: data },
      expect: { http: 413, reason: 'too-large', text: 'exceeds' },
    };
  },

  // The same without a content-length: the receiver must stop reading, not buffer it all. On the
  // raw stream: a structured envelope above the event limit plus the envelope allowance.
  'huge-payload-chunked': (entry, ctx) => {
    const blob = 'y'.repeat(ctx.maxEventBytes + 150_000);
    const event = deployedEvent(badId('huge-payload-chunked', entry), { blob });
    if (entry === 'raw') {
      const structured = toHttpStructured(event);
      return {
        input: {
          subject: RAW_DEPLOYED(ctx),
          headers: STRUCTURED_TYPE,
          data: utf8(structured.body),
        },
        expect: { dlq: 'too-large', errorClass: 'PayloadTooLargeError', detail: 'the limit is' },
      };
    }
    return {
      input: { headers: JSON_TYPE, body: utf8(serialize(event)), chunked: true },
      expect: { http: 413, text: 'exceeds' },
    };
  },

  // Over the event limit but within the body limit (an envelope's allowance): the webhook answered
  // 400 where the ingest answered 413. One rule: too-large is 413 at every door.
  'just-over-the-limit': (entry, ctx) => {
    const id = badId('just-over-the-limit', entry);
    const base = serialize(deployedEvent(id, { blob: '' })).length;
    const data = utf8(serialize(deployedEvent(id, { blob: 'z'.repeat(ctx.maxEventBytes - base + 1000) })));
    if (entry === 'raw') {
      return {
        input: { subject: RAW_DEPLOYED(ctx), headers: {}, data },
        expect: { dlq: 'too-large', errorClass: 'PayloadTooLargeError', detail: 'the limit is' },
      };
    }
    return {
      input: { headers: JSON_TYPE, body: data },
      expect: { http: 413, reason: 'too-large', text: `exceeds the limit of ${ctx.maxEventBytes} bytes` },
    };
  },

  // A batch of one event over the event limit: the ingest took it (202) and the hub dead-lettered it;
  // the webhook refused the body. Now refused by the event limit everywhere.
  'batch-item-over-the-limit': (entry, ctx) => {
    const event = deployedEvent(badId('batch-item-over-the-limit', entry), {
      blob: 'w'.repeat(ctx.maxEventBytes + 10_000),
    });
    if (entry === 'raw') {
      return {
        input: { subject: RAW_DEPLOYED(ctx), headers: {}, data: utf8(serialize(event)) },
        expect: { dlq: 'too-large', errorClass: 'PayloadTooLargeError', detail: 'the limit is' },
      };
    }
    return {
      input: {
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        body: utf8(`[${toHttpStructured(event).body}]`),
      },
      expect: { http: 413, reason: 'too-large', text: `the limit of ${ctx.maxEventBytes} bytes` },
    };
  },

  // 100k nested arrays in customData: fine for JSON.parse, fatal for anything recursive after it.
  'deep-nesting': sameEverywhere(
    (entry) =>
      utf8(
        serialize(deployedEvent(badId('deep-nesting', entry), { d: 0 })).replace(
          '{"d":0}',
          `{"d":${nested(100_000)}}`,
        ),
      ),
    { reason: 'too-deep', errorClass: 'NestingTooDeepError', detail: 'deeper than 128 levels' },
  ),

  // The same inside a structured CloudEvent: the mode in which the hub re-serializes the event.
  'deep-nesting-structured': structuredEverywhere(
    (entry) =>
      envelope(
        serialize(deployedEvent(badId('deep-nesting-structured', entry), { d: 0 })).replace(
          '{"d":0}',
          `{"d":${nested(100_000)}}`,
        ),
      ),
    { dlq: 'too-deep', errorClass: 'NestingTooDeepError', detail: 'deeper than 129 levels' },
    { reason: 'too-deep', text: 'deeper than' },
  ),

  // JSON.parse reads 1e999 as Infinity, which JSON.stringify writes as null: a silent change wherever
  // the event is serialized again (the hub does so in structured mode).
  'number-beyond-double': structuredEverywhere(
    (entry) =>
      envelope(
        serialize(deployedEvent(badId('number-beyond-double', entry), { size: 0 })).replace(
          '"size":0',
          '"size":1e999',
        ),
      ),
    {
      dlq: 'number-out-of-range',
      errorClass: 'NumberOutOfRangeError',
      detail: 'data.customData.size: is a number beyond the range of a 64-bit float',
    },
    { reason: 'number-out-of-range', text: 'beyond the range of a 64-bit float' },
  ),

  'not-an-object': sameEverywhere(() => utf8('[1,2,3]'), {
    reason: 'not-an-event',
    errorClass: 'ValidationError',
    detail: '(root): must be a CDEvent object, got an array',
  }),

  'unknown-event-type': mutated(
    (e) => {
      e.context.type = 'dev.cdevents.service.exploded.0.3.0';
    },
    {
      reason: 'unknown-type',
      errorClass: 'UnknownEventTypeError',
      detail: 'context.type: ',
      httpText: 'exploded',
    },
    'unknown-event-type',
  ),

  'unknown-type-version': mutated(
    (e) => {
      e.context.type = 'dev.cdevents.service.deployed.0.9.0';
    },
    {
      reason: 'unknown-type-version',
      errorClass: 'UnknownTypeVersionError',
      detail: 'context.type: version not supported; known versions',
      httpText: 'known versions are',
    },
    'unknown-type-version',
  ),

  'wrong-spec-version': mutated(
    (e) => {
      e.context.specversion = '0.9.0';
    },
    {
      reason: 'spec-version',
      errorClass: 'ValidationError',
      detail: 'context.specversion: is "0.9.0"',
    },
    'wrong-spec-version',
  ),

  // A 0.5.x type whose context names the spec version the 0.4.x way.
  'spec-version-field-name': mutated(
    (e) => {
      e.context.version = e.context.specversion;
      delete e.context.specversion;
    },
    {
      reason: 'spec-version',
      errorClass: 'ValidationError',
      detail: 'context.specversion: is required',
    },
    'spec-version-field-name',
  ),

  'missing-required-field': mutated(
    (e) => {
      delete e.context.id;
    },
    { reason: 'schema', errorClass: 'ValidationError', detail: 'context.id: is required' },
    'missing-required-field',
  ),

  'missing-subject-content': mutated(
    (e) => {
      delete e.subject.content;
    },
    { reason: 'schema', errorClass: 'ValidationError', detail: 'subject.content: is required' },
    'missing-subject-content',
  ),

  'bad-timestamp': mutated(
    (e) => {
      e.context.timestamp = 'yesterday at noon';
    },
    { reason: 'schema', errorClass: 'ValidationError', detail: 'context.timestamp: must be' },
    'bad-timestamp',
  ),

  'impossible-timestamp': mutated(
    (e) => {
      e.context.timestamp = '2026-02-30T25:61:00Z';
    },
    { reason: 'schema', errorClass: 'ValidationError', detail: 'context.timestamp: must be' },
    'impossible-timestamp',
  ),

  // A valid CDEvent whose year ClickHouse cannot store (and far outside the accepted range). The
  // agent's webhook and the hub's ingest refuse it while the sender listens (one rule, @argus/cdevents
  // TimeRange); on the stream the hub dead-letters it.
  'timestamp-out-of-range': (entry, ctx) => {
    const id = badId('timestamp-out-of-range', entry);
    const e = mutable(id);
    e.context.timestamp = '9999-12-31T23:59:59Z';
    const data = utf8(JSON.stringify(e));
    const detail = 'outside the accepted range';
    if (entry === 'raw') {
      return {
        input: { subject: RAW_DEPLOYED(ctx), headers: {}, data },
        expect: { dlq: 'timestamp-out-of-range', errorClass: 'TimestampOutOfRangeError', detail },
      };
    }
    return {
      input: { headers: JSON_TYPE, body: data },
      expect: { http: 400, reason: 'timestamp-out-of-range', text: detail },
    };
  },

  'id-not-a-string': mutated(
    (e) => {
      e.context.id = 42;
    },
    {
      reason: 'schema',
      errorClass: 'ValidationError',
      detail: 'context.id: must be a string, got number 42',
    },
    'id-not-a-string',
  ),

  'subject-id-not-a-string': mutated(
    (e) => {
      e.subject.id = { nested: true };
    },
    {
      reason: 'schema',
      errorClass: 'ValidationError',
      detail: 'subject.id: must be a string, got an object',
    },
    'subject-id-not-a-string',
  ),

  'empty-id': mutated(
    (e) => {
      e.context.id = '';
    },
    { reason: 'schema', errorClass: 'ValidationError', detail: 'context.id: must not be empty' },
    'empty-id',
  ),

  // CDEvents objects are closed: Argus tags never ride inside the event.
  'extra-top-level-field': mutated(
    (e) => {
      e.argus = { instance: 'argo-us', cluster: 'prod-us' };
    },
    { reason: 'schema', errorClass: 'ValidationError', detail: 'argus: is not allowed here' },
    'extra-top-level-field',
  ),

  'proto-pollution': sameEverywhere(
    (entry) =>
      utf8(
        serialize(deployedEvent(badId('proto-pollution', entry))).replace(
          '"context":{',
          '"context":{"__proto__":{"polluted":true},',
        ),
      ),
    { reason: 'schema', errorClass: 'ValidationError', detail: 'context.__proto__: is not allowed here' },
  ),

  // 500 unknown fields: issues stop at 50, the dead letter's detail header stays bounded.
  'many-issues': mutated(
    (e) => {
      for (let i = 0; i < 500; i++) (e.subject.content as Json)[`k${i}`] = i;
    },
    { reason: 'schema', errorClass: 'ValidationError', detail: 'subject.content.k0: is not allowed here' },
    'many-issues',
  ),

  // CloudEvents binary mode whose ce-type names another event than the body.
  'header-body-disagreement': (entry, ctx) => {
    const event = deployedEvent(badId('header-body-disagreement', entry));
    const ceType = 'dev.cdevents.incident.detected.0.2.0';
    if (entry === 'raw') {
      const binary = toNatsBinary(event);
      return {
        input: {
          subject: RAW_DEPLOYED(ctx),
          headers: { ...binary.headers, 'ce-type': ceType },
          data: binary.data,
        },
        expect: { dlq: 'binding', errorClass: 'BindingError', detail: 'disagrees with the CDEvent' },
      };
    }
    const binary = toHttpBinary(event);
    return {
      input: { headers: { ...binary.headers, 'ce-type': ceType }, body: utf8(binary.body) },
      expect: { http: 400, reason: 'binding', text: 'disagrees with the CDEvent' },
    };
  },

  'cloudevents-spec-version': (entry, ctx) => {
    const event = deployedEvent(badId('cloudevents-spec-version', entry));
    if (entry === 'raw') {
      const binary = toNatsBinary(event);
      return {
        input: {
          subject: RAW_DEPLOYED(ctx),
          headers: { ...binary.headers, 'ce-specversion': '0.3' },
          data: binary.data,
        },
        expect: { dlq: 'binding', errorClass: 'BindingError', detail: 'specversion "0.3" is not supported' },
      };
    }
    const binary = toHttpBinary(event);
    return {
      input: { headers: { ...binary.headers, 'ce-specversion': '0.3' }, body: utf8(binary.body) },
      expect: { http: 400, reason: 'binding', text: 'specversion "0.3" is not supported' },
    };
  },

  // Latin-1 é inside a string: must be refused, not decoded to U+FFFD and stored.
  'non-utf8': sameEverywhere(
    (entry) => withBytes(serialize(deployedEvent(badId('non-utf8', entry), { note: 'caf@@' })), '@@', [0xe9]),
    { reason: 'malformed-json', errorClass: 'MalformedJsonError', detail: 'not valid UTF-8' },
  ),

  // An overlong encoding of "/" and a UTF-16 surrogate encoded as UTF-8: both invalid UTF-8.
  'overlong-utf8': sameEverywhere(
    (entry) =>
      withBytes(
        serialize(deployedEvent(badId('overlong-utf8', entry), { note: '@@' })),
        '@@',
        [0xc0, 0xaf, 0xed, 0xa0, 0x80],
      ),
    { reason: 'malformed-json', errorClass: 'MalformedJsonError', detail: 'not valid UTF-8' },
  ),

  // Tokens NATS subjects cannot carry. On the raw stream: an instance token outside [A-Za-z0-9_-];
  // over HTTP, where the subject is built from the type: a custom type carrying a wildcard.
  'odd-subject-token': (entry, ctx) => {
    if (entry === 'raw') {
      const subject = `cdevents.raw.${ctx.rawInstance}$x.service.deployed`;
      const binary = toNatsBinary(deployedEvent(badId('odd-subject-token', entry)));
      return {
        input: { subject, headers: binary.headers, data: binary.data },
        expect: { dlq: 'bad-subject', errorClass: 'SubjectSchemeError', detail: subject },
      };
    }
    const e = mutable(badId('odd-subject-token', entry));
    e.context.type = 'dev.cdeventsx.tool*>-resource.created.0.1.0';
    return {
      input: { headers: JSON_TYPE, body: utf8(JSON.stringify(e)) },
      expect: { http: 400, reason: 'unknown-type', text: 'custom types must look like' },
    };
  },

  // One token too many (raw), or a type with one part too many (HTTP).
  'extra-subject-token': (entry, ctx) => {
    if (entry === 'raw') {
      const subject = `cdevents.raw.${ctx.rawInstance}.service.deployed.extra`;
      const binary = toNatsBinary(deployedEvent(badId('extra-subject-token', entry)));
      return {
        input: { subject, headers: binary.headers, data: binary.data },
        expect: { dlq: 'bad-subject', errorClass: 'SubjectSchemeError', detail: subject },
      };
    }
    const e = mutable(badId('extra-subject-token', entry));
    e.context.type = 'dev.cdevents.service.deployed.extra.0.3.0';
    return {
      input: { headers: JSON_TYPE, body: utf8(JSON.stringify(e)) },
      expect: { http: 400, reason: 'unknown-type', text: 'service.deployed.extra' },
    };
  },

  // The subject routes as incident.detected, the body is a service.deployed. Over HTTP, where the
  // type travels in ce-type instead of a subject, the same disagreement is a binding error.
  'subject-type-mismatch': (entry, ctx) => {
    const event = deployedEvent(badId('subject-type-mismatch', entry));
    if (entry === 'raw') {
      const binary = toNatsBinary(event);
      return {
        input: {
          subject: `cdevents.raw.${ctx.rawInstance}.incident.detected`,
          headers: binary.headers,
          data: binary.data,
        },
        expect: { dlq: 'subject-mismatch', errorClass: 'SubjectMismatch', detail: 'says incident.detected' },
      };
    }
    const binary = toHttpBinary(event);
    return {
      input: {
        headers: { ...binary.headers, 'ce-type': 'dev.cdevents.service.removed.0.3.0' },
        body: utf8(binary.body),
      },
      expect: { http: 400, reason: 'binding', text: 'service.removed' },
    };
  },

  // Everything in the payload and the headers says "I am argo-us in prod-us": the stored event is
  // tagged with the instance of the subject (raw), of the agent (webhook) or of the token (ingest).
  'spoofed-instance-claims': (entry, ctx) => {
    const id = spoofId('spoofed-instance-claims', entry);
    const e = mutable(id);
    e.customData = {
      argus: { instance: ctx.otherInstance, cluster: ctx.otherCluster },
      instance: ctx.otherInstance,
      cluster: ctx.otherCluster,
    };
    const data = utf8(JSON.stringify(e));
    const claims = {
      'Argus-Instance': ctx.otherInstance,
      'Argus-Environment': 'production',
      'Argus-Labels': '{"team":"payments"}',
    };
    if (entry === 'raw') {
      return {
        input: { subject: RAW_DEPLOYED(ctx), headers: claims, data },
        expect: { stored: { instance: ctx.rawInstance, cluster: ctx.rawCluster }, eventId: id },
      };
    }
    const stored =
      entry === 'webhook'
        ? { instance: ctx.webhookInstance, cluster: ctx.webhookCluster }
        : { instance: ctx.ingestProducer, cluster: '' };
    return { input: { headers: { ...JSON_TYPE, ...claims }, body: data }, expect: { stored, eventId: id } };
  },

  // An agent naming a destination its registry entry does not list (strict registry): refused by
  // the hub. The ingest takes no cluster from a request, so there the claim is simply ignored.
  // The claim's header since 0.2, and the one agents and templates of 0.1 send.
  'spoofed-cluster-header': spoofedClusterClaim('spoofed-cluster-header', 'Argus-Destination-Cluster'),
  'spoofed-cluster-header-0.1': spoofedClusterClaim('spoofed-cluster-header-0.1', 'Argus-Cluster'),

  // A batch whose second item is invalid: all or nothing, the valid first item is not kept either.
  // On the raw stream a batch is not a message format: an array body is not an event.
  'batch-with-bad-item': (entry, ctx) => {
    const good = toHttpStructured(deployedEvent(badId('batch-with-bad-item', entry)));
    const badItem = JSON.parse(
      toHttpStructured(deployedEvent(`${badId('batch-with-bad-item', entry)}-2`)).body,
    ) as Json;
    delete (badItem.data as { context: Json }).context.timestamp;
    const body = utf8(`[${good.body},${JSON.stringify(badItem)}]`);
    if (entry === 'raw') {
      return {
        input: { subject: RAW_DEPLOYED(ctx), headers: {}, data: body },
        expect: { dlq: 'not-an-event', errorClass: 'ValidationError', detail: 'got an array' },
      };
    }
    return {
      input: { headers: { 'content-type': 'application/cloudevents-batch+json' }, body },
      expect: { http: 400, reason: 'schema', text: 'batch item 1: ' },
    };
  },

  'structured-without-data': structuredEverywhere(
    (entry) =>
      utf8(
        `{"specversion":"1.0","id":"${badId('structured-without-data', entry)}","source":"/x","type":"${DEPLOYED}"}`,
      ),
    { dlq: 'binding', errorClass: 'BindingError', detail: 'specversion and data' },
    { reason: 'binding', text: 'specversion and data' },
  ),

  // Valid CDEvents that NATS or ClickHouse cannot carry as they are. Both once stalled the hub for good
  // (its republish, or its insert, retried for ever).
  'line-break-in-id': (entry, ctx) => {
    const e = mutable(badId('line-break-in-id', entry));
    e.context.id = `${String(e.context.id)}\r\nX-Injected: 1`;
    const body = utf8(JSON.stringify(e));
    return entry === 'raw'
      ? {
          input: { subject: RAW_DEPLOYED(ctx), headers: {}, data: body },
          expect: { dlq: 'binding', errorClass: 'BindingError', detail: 'contains a line break' },
        }
      : {
          input: { headers: JSON_TYPE, body },
          expect: {
            http: 400,
            reason: 'binding',
            text: 'contains a line break, which a NATS header (ce-id)',
          },
        };
  },

  'lone-surrogate-in-id': (entry, ctx) => {
    const e = mutable(badId('lone-surrogate-in-id', entry));
    e.context.id = `${String(e.context.id)}-\ud800`;
    const body = utf8(JSON.stringify(e));
    const refusal = {
      dlq: 'store-rejected',
      errorClass: 'CANNOT_PARSE_ESCAPE_SEQUENCE',
      detail: 'surrogate',
    } as const;
    return entry === 'raw'
      ? { input: { subject: RAW_DEPLOYED(ctx), headers: {}, data: body }, expect: refusal }
      : {
          input: { headers: JSON_TYPE, body },
          // Accepted, then refused by ClickHouse; its ce-id header went out as UTF-8, the surrogate as U+FFFD.
          expect: { ...refusal, eventId: `${badId('lone-surrogate-in-id', entry)}-\ufffd` },
        };
  },

  // An event just under the limit in a structured envelope: NATS allowed the envelope its 4 KiB,
  // HTTP did not and refused it as too large. One allowance: stored everywhere.
  'structured-near-the-limit': (entry, ctx) => {
    const id = spoofId('structured-near-the-limit', entry);
    const base = serialize(deployedEvent(id, { blob: '' })).length;
    const event = deployedEvent(id, { blob: 'v'.repeat(ctx.maxEventBytes - base - 100) });
    const data = utf8(toHttpStructured(event).body);
    if (entry === 'raw') {
      return {
        input: { subject: RAW_DEPLOYED(ctx), headers: STRUCTURED_TYPE, data },
        expect: { stored: { instance: ctx.rawInstance, cluster: ctx.rawCluster }, eventId: id },
      };
    }
    const stored =
      entry === 'webhook'
        ? { instance: ctx.webhookInstance, cluster: ctx.webhookCluster }
        : { instance: ctx.ingestProducer, cluster: '' };
    return { input: { headers: STRUCTURED_TYPE, body: data }, expect: { stored, eventId: id } };
  },

  // No content type (what Argo CD Notifications sends unless a template sets one): the webhook took
  // it, the ingest answered 415. One receiver shape: accepted at both doors.
  'no-content-type': (entry, ctx) => {
    const id = spoofId('no-content-type', entry);
    if (entry === 'raw') return { notApplicable: 'NATS has no content negotiation' };
    const stored =
      entry === 'webhook'
        ? { instance: ctx.webhookInstance, cluster: ctx.webhookCluster }
        : { instance: ctx.ingestProducer, cluster: '' };
    return {
      input: { headers: {}, body: utf8(serialize(deployedEvent(id))) },
      expect: { stored, eventId: id },
    };
  },

  'missing-token': (entry) =>
    entry === 'raw'
      ? { notApplicable: 'NATS permissions bind raw subjects to credentials (test/deploy)' }
      : {
          input: {
            headers: JSON_TYPE,
            body: utf8(serialize(deployedEvent(badId('missing-token', entry)))),
            auth: 'missing',
          },
          expect: { http: 401, text: 'missing bearer token' },
        },

  'wrong-token': (entry) =>
    entry === 'raw'
      ? { notApplicable: 'NATS permissions bind raw subjects to credentials (test/deploy)' }
      : {
          input: {
            headers: JSON_TYPE,
            body: utf8(serialize(deployedEvent(badId('wrong-token', entry)))),
            auth: 'wrong',
          },
          // One receiver shape: an unknown token is 403 at both doors.
          expect: { http: 403, text: 'unknown token' },
        },

  'wrong-method': (entry) =>
    entry === 'raw'
      ? { notApplicable: 'NATS has no methods' }
      : {
          input: { method: 'PUT', headers: JSON_TYPE, body: utf8('{}') },
          expect: { http: 405, text: 'use POST' },
        },
};

/** The corpus for one test world. */
export const buildCorpus = (ctx: CorpusContext): BadInputCase[] =>
  Object.entries(KINDS).map(([kind, build]) => ({
    kind,
    webhook: build('webhook', ctx) as Probe<HttpProbe>,
    ingest: build('ingest', ctx) as Probe<HttpProbe>,
    raw: build('raw', ctx) as Probe<RawProbe>,
  }));
