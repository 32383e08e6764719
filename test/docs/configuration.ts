/**
 * Writes docs/configuration.md from the option specs the processes actually parse, so the
 * reference can never drift: `pnpm docs:config`; test/docs/configuration.test.ts fails when stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AGENT_OPTIONS } from '@argus/agent';
import { HUB_OPTIONS } from '@argus/hub';
import { optionsMarkdown } from '@argus/runtime';

export const CONFIGURATION_FILE = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));

export const configurationMarkdown = (): string =>
  `${[
    '# Configuration reference',
    '',
    '<!-- Generated from HUB_OPTIONS and AGENT_OPTIONS by `pnpm docs:config`; do not edit by hand. -->',
    '',
    'Every option is a flag and an environment variable (a flag wins over the variable, the variable over',
    'the default). Durations take `500ms`, `30s`, `5m`, `2h`, `7d` or plain milliseconds; lists are',
    'comma-separated. The query commands (`argus query|tail|timeline|dora|instances|stats`) take',
    '`--hub`/`ARGUS_HUB` (`host` means port 50051; `http://` and `https://` URLs work, https is TLS),',
    '`--token`/`ARGUS_QUERY_TOKEN`, `--output` and `--timeout`; `argus send` takes `--ingest`/`ARGUS_INGEST`',
    'and `--ingest-token`/`ARGUS_INGEST_TOKEN`, never the query token. `ARGUS_TOKEN` is deprecated: query',
    'commands still read it, with a line on stderr; `send` does not. Filters are flags only',
    '(`argus <command> --help`).',
    '',
    '## `argus hub`',
    '',
    optionsMarkdown(HUB_OPTIONS),
    '',
    '## `argus agent`',
    '',
    optionsMarkdown(AGENT_OPTIONS),
  ].join('\n')}\n`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CONFIGURATION_FILE, configurationMarkdown());
  console.log(`wrote ${CONFIGURATION_FILE}`);
}
