import { createHash, hash } from 'node:crypto';

/**
 * Namespace of Argus' deterministic event ids (UUIDv5 of the RFC 9562 URL namespace and
 * `https://argus.dev/cdevents`), so two producers deriving ids from the same key agree.
 */
export const ARGUS_ID_NAMESPACE = '91bc6516-deb0-537d-96d9-9788c9d857ea';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const uuidBytes = (uuid: string): Buffer => {
  if (!UUID.test(uuid)) throw new TypeError(`not a UUID: ${JSON.stringify(uuid)}`);
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
};

const format = (bytes: Buffer): string => {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

/** RFC 9562 UUIDv5 (SHA-1, name-based) of `name` in `namespace`. */
export const uuidV5 = (name: string, namespace: string): string => {
  const hash = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  return format(bytes);
};

/**
 * A deterministic event id: the same key gives the same UUID, on any machine, in any process.
 * For producers that may observe one occurrence several times and must emit one event.
 * Key parts are joined unambiguously (length-prefixed), so `['a:b','c']` and `['a','b:c']` differ.
 */
export const deterministicId = (
  key: string | readonly string[],
  namespace: string = ARGUS_ID_NAMESPACE,
): string => {
  const parts = typeof key === 'string' ? [key] : key;
  if (parts.length === 0) throw new TypeError('deterministicId needs at least one key part');
  const name = parts.map((p) => `${p.length}:${p}`).join('|');
  return uuidV5(name, namespace);
};

/**
 * The identity of an event: a digest of `context.source` and `context.id`, the pair the CDEvents spec
 * makes unique. Stable across processes and machines: the hub dedupes on it, stores it as the
 * `identity` column and uses it as the unified stream's `Nats-Msg-Id`, as the NATS binding does.
 * 32 hex characters (128 bits); the source is length-prefixed, so no two pairs join alike.
 */
export const eventIdentity = (source: string, id: string): string =>
  hash('sha256', `${source.length}:${source}|${id}`, 'hex').slice(0, 32);
