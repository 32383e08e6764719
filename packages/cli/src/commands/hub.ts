import { HUB_OPTIONS, runHub } from '@argus/hub';
import { optionsHelp, parseArgsConfig, parseOptions } from '@argus/runtime';
import { type Command, EXIT_FAILURE, EXIT_OK } from '../command.js';
import { optionsFromFlags } from '../options.js';

export const hubCommand: Command = {
  name: 'hub',
  summary: "run the hub: consume agents' streams, validate, dedupe, tag, store in ClickHouse, republish",
  usage:
    'argus hub [--nats <url>] [--data-dir <dir> | --clickhouse-url <url>] [--registry <file>] [--http-listen <host:port>]',
  options: parseArgsConfig(HUB_OPTIONS),
  optionHelp: optionsHelp(HUB_OPTIONS),
  examples: [
    'argus hub --nats nats://127.0.0.1:4222 --data-dir ./hub-data',
    'argus hub --clickhouse-url http://clickhouse:8123 --registry registry.yaml --ingest-tokens ci=s3cret',
  ],
  async run({ values }, io) {
    const options = parseOptions(HUB_OPTIONS, { flags: optionsFromFlags(values), env: io.env });
    const running = await runHub(options);
    return new Promise<number>((resolve) => {
      running.shutdown.handleSignals((code) =>
        resolve(code === 0 ? EXIT_OK : code === 130 ? 130 : EXIT_FAILURE),
      );
    });
  },
};
