import type {
  DeadLetter,
  GetDeadLetterRequest,
  GetDeadLetterResponse,
  ListDeadLettersRequest,
  ListDeadLettersResponse,
  ReplayDeadLetterRequest,
  ReplayDeadLetterResponse,
} from '@argus/query-api';
import { clientCommand } from '../client/command.js';
import { CLIENT_OPTIONS, unary } from '../client/connection.js';
import { table, terminalSafe, terminalSafeJson } from '../client/render.js';
import { EXIT_OK, UsageError } from '../command.js';

const ACTIONS = ['list', 'show', 'replay'] as const;
const PAGE = 500;

const sequenceOf = (text: string | undefined, action: string): number => {
  const n = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(
      `dlq ${action} takes one dead letter sequence (the SEQ of argus dlq list), got ${JSON.stringify(text ?? '')}`,
    );
  return n;
};

const deadLetterJson = (d: DeadLetter) => ({ ...d, time: d.time?.toISOString() ?? '' });

export const dlqCommand = clientCommand({
  name: 'dlq',
  summary:
    'dead letters: list them with their reason, show one with its original bytes, replay it after a fix',
  usage:
    'argus dlq list [--producer <p>] [--reason <r>] [--limit <n>] | argus dlq show <seq> | argus dlq replay <seq>',
  spec: {
    ...CLIENT_OPTIONS,
    producer: {
      env: false,
      kind: 'string',
      description: 'list: only this instance or ingest producer',
      placeholder: '<name>',
    },
    reason: {
      env: false,
      kind: 'string',
      description: 'list: only this reason (schema, cluster-not-allowed, ...)',
      placeholder: '<reason>',
    },
    limit: {
      env: false,
      kind: 'integer',
      description: 'list: most dead letters, oldest first',
      default: 50,
      min: 1,
    },
  },
  takesArguments: true,
  examples: [
    'argus dlq list --reason cluster-not-allowed',
    'argus dlq show 42 --output json | jq -r .data',
    'argus dlq replay 42 --token $ARGUS_ADMIN_TOKEN',
  ],
  async run(options, connection, io, positionals) {
    const [action = '', ...rest] = positionals;
    if (!(ACTIONS as readonly string[]).includes(action))
      throw new UsageError(`dlq takes list, show <seq> or replay <seq>, got ${JSON.stringify(action)}`);
    if (action === 'list') {
      if (rest.length > 0)
        throw new UsageError(`dlq list takes no arguments, got ${JSON.stringify(rest[0])}`);
      const deadLetters: DeadLetter[] = [];
      let pageToken = '';
      let total = 0;
      do {
        const page = await unary<ListDeadLettersRequest, ListDeadLettersResponse>(
          connection,
          connection.client.listDeadLetters,
          {
            producer: options.producer ?? '',
            reason: options.reason ?? '',
            pageSize: Math.min(PAGE, options.limit - deadLetters.length),
            pageToken,
          },
        );
        deadLetters.push(...page.deadLetters);
        pageToken = page.nextPageToken;
        total = page.total;
      } while (pageToken !== '' && deadLetters.length < options.limit);
      if (options.output === 'json') {
        for (const d of deadLetters) io.stdout(`${terminalSafeJson(deadLetterJson(d))}\n`);
        return EXIT_OK;
      }
      if (deadLetters.length === 0) {
        io.stderr(`no dead letters match (${total} in CDEVENTS_DLQ)\n`);
        return EXIT_OK;
      }
      io.stdout(
        table(
          ['SEQ', 'TIME', 'PRODUCER', 'REASON', 'ERROR CLASS', 'BYTES', 'DETAIL'],
          deadLetters.map((d) => [
            String(d.sequence),
            d.time?.toISOString() ?? '',
            d.producer,
            d.replayOf > 0 ? `${d.reason} (replay of ${d.replayOf})` : d.reason,
            d.errorClass,
            `${d.originalSize}${d.truncated ? ' (cut)' : ''}`,
            d.detail,
          ]),
        ),
      );
      if (pageToken !== '') io.stderr(`more dead letters follow (${total} in CDEVENTS_DLQ): raise --limit\n`);
      return EXIT_OK;
    }
    if (rest.length !== 1) throw new UsageError(`dlq ${action} takes one dead letter sequence`);
    const sequence = sequenceOf(rest[0], action);
    if (action === 'show') {
      const shown = await unary<GetDeadLetterRequest, GetDeadLetterResponse>(
        connection,
        connection.client.getDeadLetter,
        { sequence },
      );
      const text = Buffer.from(shown.data).toString('utf8');
      if (options.output === 'json') {
        io.stdout(
          `${terminalSafeJson({
            ...(shown.deadLetter === undefined ? {} : deadLetterJson(shown.deadLetter)),
            headers: shown.headers,
            data: text,
            dataBase64: Buffer.from(shown.data).toString('base64'),
          })}\n`,
        );
        return EXIT_OK;
      }
      const d = shown.deadLetter;
      const lines = [
        `dead letter ${sequence}, ${d?.time?.toISOString() ?? ''}`,
        `producer:  ${d?.producer ?? ''} (${d?.originalSubject ?? ''}, raw sequence ${d?.originalSequence ?? 0})`,
        `reason:    ${d?.reason ?? ''} (${d?.errorClass ?? ''})${d !== undefined && d.replayOf > 0 ? `, replay of ${d.replayOf}` : ''}`,
        `detail:    ${d?.detail ?? ''}`,
        `bytes:     ${d?.originalSize ?? 0}${d?.truncated ? ' (only the first kept)' : ''}`,
        'headers:',
        ...shown.headers.map((h) => `  ${h.name}: ${h.value}`),
        '',
      ];
      io.stdout(`${lines.map(terminalSafe).join('\n')}${terminalSafe(text)}\n`);
      return EXIT_OK;
    }
    const replayed = await unary<ReplayDeadLetterRequest, ReplayDeadLetterResponse>(
      connection,
      connection.client.replayDeadLetter,
      { sequence },
    );
    if (options.output === 'json') io.stdout(`${JSON.stringify({ sequence, ...replayed })}\n`);
    else
      io.stdout(
        replayed.duplicate
          ? `dead letter ${sequence} was replayed already (raw sequence ${replayed.rawSequence}): nothing sent\n`
          : `dead letter ${sequence} replayed as raw sequence ${replayed.rawSequence}; if still refused it returns to the DLQ with its reason\n`,
      );
    return EXIT_OK;
  },
});
