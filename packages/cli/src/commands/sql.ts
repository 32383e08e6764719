import type { RunSqlRequest, RunSqlResponse } from '@argus/query-api';
import { clientCommand } from '../client/command.js';
import { CLIENT_OPTIONS, unary } from '../client/connection.js';
import { table, terminalSafe, terminalSafeJson } from '../client/render.js';
import { EXIT_OK, UsageError } from '../command.js';

/** A cell for people: strings as they are, everything else (numbers, arrays, maps) as JSON. */
const cell = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** TSV as ClickHouse writes it: backslash, tab and newline escaped, so one line stays one row. */
const tsvCell = (value: unknown): string =>
  cell(value).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

export const sqlCommand = clientCommand({
  name: 'sql',
  summary:
    "read-only SQL on the hub's ClickHouse (the embedded one too); needs an admin token when the hub has tokens",
  usage: 'argus sql "<SELECT ...>" | - (the query on stdin) [--output table|json|tsv] [--max-rows <n>]',
  spec: {
    ...CLIENT_OPTIONS,
    output: {
      ...CLIENT_OPTIONS.output,
      description: 'table for people, json for one JSON object per row, tsv for other tools',
      choices: ['table', 'json', 'tsv'],
      placeholder: '<table|json|tsv>',
    },
    maxRows: {
      env: false,
      kind: 'integer',
      description: "most rows to return; the hub's --sql-max-rows when unset, and at most that",
      min: 1,
      placeholder: '<n>',
    },
  },
  takesArguments: true,
  examples: [
    'argus sql "SELECT cluster, count() FROM argus.cdevents GROUP BY cluster" --token $ARGUS_ADMIN_TOKEN',
    'argus sql "DESCRIBE TABLE argus.cdevents"',
    'argus sql - < incidents.sql --output tsv',
    'argus sql "SELECT id, raw FROM argus.cdevents LIMIT 1 BY identity LIMIT 10" --output json | jq .raw',
  ],
  async run(options, connection, io, positionals) {
    const [given = ''] = positionals;
    if (positionals.length !== 1 || given.trim() === '')
      throw new UsageError(
        `sql takes one query, in quotes (argus sql "SELECT ..."), or - to read it from stdin; got ${positionals.length === 0 ? 'none' : `${positionals.length} arguments`}`,
      );
    const query = given === '-' ? (await io.readStdin()).toString('utf8') : given;
    const answer = await unary<RunSqlRequest, RunSqlResponse>(connection, connection.client.runSql, {
      query,
      maxRows: options.maxRows ?? 0,
    });
    const names = answer.columns.map((c) => c.name);
    const rows = answer.rows.map((r) => JSON.parse(r) as unknown[]);
    if (options.output === 'json') {
      for (const row of rows)
        io.stdout(`${terminalSafeJson(Object.fromEntries(names.map((n, i) => [n, row[i]])))}\n`);
    } else if (options.output === 'tsv') {
      io.stdout(
        [names, ...rows].map((r) => `${r.map((v) => terminalSafe(tsvCell(v))).join('\t')}\n`).join(''),
      );
    } else {
      io.stdout(
        table(
          names,
          rows.map((r) => r.map(cell)),
        ),
      );
      io.stderr(`${rows.length} row${rows.length === 1 ? '' : 's'}\n`);
    }
    if (answer.truncated)
      io.stderr(
        `only the first ${rows.length} rows: more matched (raise --max-rows up to the hub's --sql-max-rows, or add LIMIT/WHERE)\n`,
      );
    return EXIT_OK;
  },
});
