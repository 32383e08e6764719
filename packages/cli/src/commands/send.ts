import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  type CDEvent,
  createEvent,
  DEFAULT_MAX_EVENT_BYTES,
  EVENT_KEYS,
  type EventKey,
  parseDetailed,
  SPEC_VERSIONS,
  type SpecVersion,
  ValidationError,
} from '@argus/cdevents';
import type { OptionsSpec, ParsedOptions } from '@argus/runtime';
import { type Command, EXIT_FAILURE, EXIT_OK, UsageError } from '../command.js';
import { specCommand } from '../options.js';
import { didYouMean } from '../suggest.js';

const SEND_OPTIONS = {
  ingest: {
    kind: 'string',
    description: "the hub's HTTP listener (POST /api/v1/events)",
    default: 'http://127.0.0.1:8080',
    placeholder: '<url>',
  },
  ingestToken: {
    kind: 'string',
    description: 'bearer token of the HTTP ingest (producer=token on the hub); never the query token',
    placeholder: '<token>',
  },
  token: {
    env: false,
    kind: 'string',
    description: 'the same as --ingest-token',
    placeholder: '<token>',
  },
  type: {
    env: false,
    kind: 'string',
    description: 'build the event from flags: its type, e.g. change.merged',
    placeholder: '<subject.predicate>',
  },
  source: {
    env: false,
    kind: 'string',
    description: 'context.source (a URI reference, e.g. /github/acme/app)',
    placeholder: '<uri>',
  },
  subjectId: {
    env: false,
    kind: 'string',
    description: 'subject.id',
    placeholder: '<id>',
  },
  content: {
    env: false,
    kind: 'string',
    description: 'subject.content as JSON',
    default: '{}',
    placeholder: '<json>',
  },
  id: {
    env: false,
    kind: 'string',
    description: 'context.id (default: a random UUID; give a stable one so retries stay one event)',
    placeholder: '<id>',
  },
  chainId: {
    env: false,
    kind: 'string',
    description: 'context.chainId: ties change, build, artifact and deployment',
    placeholder: '<id>',
  },
  timestamp: {
    env: false,
    kind: 'string',
    description: 'context.timestamp, RFC 3339 (default: now)',
    placeholder: '<time>',
  },
  specVersion: {
    env: false,
    kind: 'string',
    description: 'CDEvents version of the built event',
    default: '0.5.1',
    choices: SPEC_VERSIONS,
    placeholder: '<0.5.1|0.4.1>',
  },
  customData: {
    env: false,
    kind: 'string',
    description: 'customData as JSON',
    placeholder: '<json>',
  },
  timeout: { kind: 'duration', description: 'deadline of the request', default: 10_000, min: 100 },
  tlsCa: {
    kind: 'string',
    description: 'trust this CA (PEM) for an https:// --ingest',
    placeholder: '<file>',
  },
} as const satisfies OptionsSpec;

const json = (text: string, flag: string): Record<string, unknown> => {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new UsageError(`${flag} must be a JSON object, got ${JSON.stringify(text)}`);
};

const describeInvalid = (error: ValidationError): string =>
  error.issues.length === 0
    ? error.message
    : error.issues.map((i) => `  ${i.path || '(event)'}: ${i.message}`).join('\n');

/** The event to send: a file (or `-`), validated as is, or one built from flags. */
const eventToSend = async (
  options: ParsedOptions<typeof SEND_OPTIONS>,
  positionals: readonly string[],
  readStdin: () => Promise<Buffer>,
): Promise<CDEvent> => {
  const [file, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError('send one event at a time: give one file or "-"');
  if (file !== undefined) {
    if (options.type !== undefined) throw new UsageError('give a file or --type with flags, not both');
    const bytes = file === '-' ? await readStdin() : await readFile(file);
    return parseDetailed(bytes, { maxBytes: DEFAULT_MAX_EVENT_BYTES }).event;
  }
  if (options.type === undefined)
    throw new UsageError('give an event file (or "-" for stdin), or build one with --type');
  if (!(EVENT_KEYS as readonly string[]).includes(options.type))
    throw new UsageError(
      `--type ${JSON.stringify(options.type)} is not a CDEvents type${didYouMean(options.type, EVENT_KEYS) || '; e.g. change.merged, artifact.published'}`,
    );
  if (options.source === undefined || options.subjectId === undefined)
    throw new UsageError('--type needs --source and --subject-id');
  return createEvent({
    type: options.type as EventKey,
    specVersion: options.specVersion as SpecVersion,
    source: options.source,
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.chainId === undefined ? {} : { chainId: options.chainId }),
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
    ...(options.customData === undefined ? {} : { customData: json(options.customData, '--custom-data') }),
    subject: { id: options.subjectId, content: json(options.content, '--content') as never },
  } as Parameters<typeof createEvent>[0]) as CDEvent;
};

/** POST over http or https (with an optional CA): fetch in Node 20 cannot take a CA per request. */
const post = (
  url: URL,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  ca: Buffer | undefined,
): Promise<{ status: number; text: string }> =>
  new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
        ...(ca === undefined ? {} : { ca }),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });

export const sendCommand: Command = specCommand(
  {
    name: 'send',
    summary: "publish a CDEvent through the hub's HTTP ingest (for CI pipelines): from a file or from flags",
    usage:
      'argus send [--ingest <url>] [--ingest-token <t>] (<file|-> | --type <t> --source <uri> --subject-id <id> [--content <json>])',
    spec: SEND_OPTIONS,
    examples: [
      'ARGUS_INGEST_TOKEN=$CI_TOKEN argus send event.json',
      'argus send --type change.merged --source /github/acme/app --subject-id acme/app/pull/42 --chain-id $GIT_SHA',
    ],
  },
  async (options, positionals, io) => {
    let event: CDEvent;
    try {
      event = await eventToSend(options, positionals, io.readStdin);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      io.stderr(
        `argus send: the event is not valid CDEvents (${error.reason}):\n${describeInvalid(error)}\n`,
      );
      return EXIT_FAILURE;
    }
    const url = new URL('/api/v1/events', options.ingest);
    const token = options.token ?? options.ingestToken;
    let response: { status: number; text: string };
    try {
      response = await post(
        url,
        JSON.stringify(event),
        {
          'content-type': 'application/json',
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
        options.timeout,
        options.tlsCa === undefined ? undefined : await readFile(options.tlsCa),
      );
    } catch (error) {
      io.stderr(`argus send: cannot reach the hub ingest at ${url.href}: ${(error as Error).message}\n`);
      return EXIT_FAILURE;
    }
    const text = response.text;
    if (response.status < 200 || response.status > 299) {
      io.stderr(`argus send: the hub refused the event (HTTP ${response.status}): ${text}\n`);
      return EXIT_FAILURE;
    }
    io.stdout(
      `${JSON.stringify({ status: response.status, id: event.context.id, type: event.context.type, response: JSON.parse(text) as unknown })}\n`,
    );
    return EXIT_OK;
  },
);
