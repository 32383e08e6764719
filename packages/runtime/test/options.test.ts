import { describe, expect, test } from 'vitest';
import {
  envName,
  flagName,
  NATS_CLIENT_OPTIONS,
  OptionsError,
  optionsHelp,
  parseDuration,
  parseOptions,
} from '../src/index.js';

const spec = {
  nats: {
    kind: 'string',
    description: 'NATS server URL',
    default: 'nats://127.0.0.1:4222',
    placeholder: '<url>',
  },
  instance: { kind: 'string', description: 'instance id', required: true },
  batchSize: { kind: 'integer', description: 'rows per insert', default: 1000, min: 1 },
  maxWait: { kind: 'duration', description: 'longest wait for a batch', default: 200 },
  verbose: { kind: 'boolean', description: 'log more' },
  clusters: { kind: 'list', description: 'cluster names' },
  mode: { kind: 'string', description: 'mode', choices: ['a', 'b'], default: 'a' },
} as const;

describe('parseOptions', () => {
  test('flag beats env beats default', () => {
    const o = parseOptions(spec, {
      flags: { instance: 'prod-eu', 'batch-size': '50' },
      env: { ARGUS_BATCH_SIZE: '70', ARGUS_NATS: 'nats://10.0.0.1:4222', ARGUS_MAX_WAIT: '2s' },
    });
    expect(o.instance).toBe('prod-eu');
    expect(o.batchSize).toBe(50);
    expect(o.nats).toBe('nats://10.0.0.1:4222');
    expect(o.maxWait).toBe(2000);
    expect(o.verbose).toBe(false);
    expect(o.clusters).toBeUndefined();
    expect(Object.isFrozen(o)).toBe(true);
  });

  test('a flag-only option ignores its ARGUS_* variable and says none in help', () => {
    const flagOnly = { cluster: { kind: 'string', description: 'filter', env: false } } as const;
    expect(parseOptions(flagOnly, { env: { ARGUS_CLUSTER: 'prod-eu' } }).cluster).toBeUndefined();
    expect(parseOptions(flagOnly, { flags: { cluster: 'prod-us' } }).cluster).toBe('prod-us');
    expect(optionsHelp(flagOnly)[0]?.description).toBe('filter');
  });

  test('a missing required option names the flag and the env var', () => {
    expect(() => parseOptions(spec, { flags: {} })).toThrowError(
      /--instance is required \(or set ARGUS_INSTANCE\)/,
    );
  });

  test('unknown flags are refused with the list of known ones', () => {
    const error = (() => {
      try {
        parseOptions(spec, { flags: { instance: 'x', bogus: '1' } });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as OptionsError).option).toBe('--bogus');
    expect((error as Error).message).toContain('known options: --nats, --instance');
  });

  test('malformed values say what was wrong and what is accepted', () => {
    expect(() => parseOptions(spec, { flags: { instance: 'x', batchSize: 'ten' } })).toThrowError(
      /--batch-size "ten" is not valid: expected an integer/,
    );
    expect(() => parseOptions(spec, { flags: { instance: 'x', batchSize: '0' } })).toThrowError(/>= 1/);
    expect(() =>
      parseOptions(spec, { flags: { instance: 'x' }, env: { ARGUS_MAX_WAIT: 'soon' } }),
    ).toThrowError(/ARGUS_MAX_WAIT "soon" is not valid: expected a duration/);
    expect(() => parseOptions(spec, { flags: { instance: 'x', mode: 'c' } })).toThrowError(/one of a, b/);
    expect(() =>
      parseOptions(spec, { flags: { instance: 'x' }, env: { ARGUS_VERBOSE: 'maybe' } }),
    ).toThrowError(/true or false/);
  });

  test('--nats-js-domain takes one token, as nats-server does, and names what it accepts otherwise', () => {
    expect(parseOptions(NATS_CLIENT_OPTIONS, { flags: { natsJsDomain: 'hub' } }).natsJsDomain).toBe('hub');
    expect(
      parseOptions(NATS_CLIENT_OPTIONS, { env: { ARGUS_NATS_JS_DOMAIN: 'hub-eu_1' } }).natsJsDomain,
    ).toBe('hub-eu_1');
    expect(parseOptions(NATS_CLIENT_OPTIONS, {}).natsJsDomain).toBeUndefined();
    for (const bad of ['hub.eu', 'hub eu', 'hub*', 'hub>', '>', '']) {
      expect(() => parseOptions(NATS_CLIENT_OPTIONS, { flags: { natsJsDomain: bad } })).toThrow(
        new RegExp(
          `--nats-js-domain ${JSON.stringify(bad).replace(/[.*>]/g, '\\$&')} is not valid: expected a JetStream domain`,
        ),
      );
    }
  });

  test('lists and booleans from env', () => {
    const o = parseOptions(spec, {
      flags: { instance: 'x' },
      env: { ARGUS_CLUSTERS: 'a, b,,c', ARGUS_VERBOSE: 'yes' },
    });
    expect(o.clusters).toEqual(['a', 'b', 'c']);
    expect(o.verbose).toBe(true);
  });

  test('names and durations', () => {
    expect(flagName('grpcListen')).toBe('--grpc-listen');
    expect(envName('grpcListen')).toBe('ARGUS_GRPC_LISTEN');
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('42')).toBe(42);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('-1s')).toBeUndefined();
  });

  test('help shows flag, env var and default of every option', () => {
    const help = optionsHelp(spec);
    expect(help).toHaveLength(Object.keys(spec).length);
    expect(help[0]).toEqual({
      flag: '--nats <url>',
      description: 'NATS server URL (default nats://127.0.0.1:4222) [ARGUS_NATS]',
    });
    expect(help.find((h) => h.flag.startsWith('--max-wait'))?.description).toContain('(default 200ms)');
    expect(help.find((h) => h.flag.startsWith('--instance'))?.description).toContain('(required)');
  });
});
