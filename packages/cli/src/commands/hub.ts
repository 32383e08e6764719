import { HUB_OPTIONS, runHub } from '@argus/hub';
import { serviceCommand } from '../service.js';

export const hubCommand = serviceCommand({
  name: 'hub',
  summary: "run the hub: consume agents' streams, validate, dedupe, tag, store in ClickHouse, republish",
  usage:
    'argus hub [--nats <url>] [--data-dir <dir> | --clickhouse-url <url>] [--registry <file>] [--http-listen <host:port>] [--grpc-listen <host:port>]',
  spec: HUB_OPTIONS,
  examples: [
    'argus hub --nats nats://127.0.0.1:4222 --data-dir ./hub-data',
    'argus hub --clickhouse-url http://clickhouse:8123 --registry registry.yaml --ingest-tokens ci=s3cret',
  ],
  start: (options) => runHub(options),
});
