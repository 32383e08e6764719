import { describe, expect, test } from 'vitest';
import { DEFAULT_GRPC_PORT, hubAddress } from '../src/client/address.js';
import { UsageError } from '../src/command.js';

describe('--hub addresses', () => {
  test('a host without a port means the hub default, 50051', () => {
    expect(DEFAULT_GRPC_PORT).toBe(50051);
    expect(hubAddress('argus.example.com')).toEqual({ target: 'argus.example.com:50051', scheme: undefined });
    expect(hubAddress('10.0.0.5:6000')).toEqual({ target: '10.0.0.5:6000', scheme: undefined });
    expect(hubAddress('[::1]')).toEqual({ target: '[::1]:50051', scheme: undefined });
  });

  test('http:// is plain text and https:// is TLS, on 80 and 443 unless a port is given', () => {
    expect(hubAddress('http://hub:9000')).toEqual({ target: 'hub:9000', scheme: 'http' });
    expect(hubAddress('https://argus.example.com')).toEqual({
      target: 'argus.example.com:443',
      scheme: 'https',
    });
    expect(hubAddress('http://argus.example.com/')).toEqual({
      target: 'argus.example.com:80',
      scheme: 'http',
    });
  });

  test('paths, other schemes and junk are refused with the accepted forms', () => {
    for (const bad of ['https://hub/api', 'grpc://hub:1', 'hub:port', 'a b'])
      expect(() => hubAddress(bad)).toThrow(UsageError);
    expect(() => hubAddress('ftp://x')).toThrow(/--hub takes host, host:port, http:\/\/host\[:port\]/);
  });
});
