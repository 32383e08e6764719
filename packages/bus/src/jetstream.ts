import {
  type JetStreamClient,
  type JetStreamManager,
  type JetStreamOptions,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { JetStreamUnreachableError } from './errors.js';

/**
 * The JetStream domain each connection made by `connectNats` addresses (`--nats-js-domain`). One home
 * for it: every JetStream context, manager and KV of Argus comes from the functions below, so a
 * process on a leaf node reaches the hub's JetStream (`$JS.<domain>.API`) in all of its calls.
 */
const jsDomains = new WeakMap<NatsConnection, string>();

/** Records the JetStream domain of a connection (connectNats does, from `NatsSetup.jsDomain`). */
export const setJsDomain = (nc: NatsConnection, domain: string | undefined): void => {
  if (domain === undefined) jsDomains.delete(nc);
  else jsDomains.set(nc, domain);
};

/** The JetStream domain a connection addresses; undefined: the plain `$JS.API` of the server it is on. */
export const jsDomainOf = (nc: NatsConnection): string | undefined => jsDomains.get(nc);

const jsOptions = (nc: NatsConnection): JetStreamOptions => {
  const domain = jsDomains.get(nc);
  return domain === undefined ? {} : { domain };
};

/** A JetStream client of the connection, in its domain. */
export const jetStreamOf = (nc: NatsConnection): JetStreamClient => jetstream(nc, jsOptions(nc));

/**
 * A JetStream manager of the connection, in its domain. Its `$JS.API.INFO` check failing with no
 * responder becomes `JetStreamUnreachableError`, which says what to set: on a leaf node without
 * JetStream the plain API has no responder (nats-server denies `$JS.API.>` across the leaf link).
 */
export const jetStreamManagerOf = async (nc: NatsConnection): Promise<JetStreamManager> => {
  try {
    return await jetstreamManager(nc, jsOptions(nc));
  } catch (error) {
    // @nats-io/jetstream does not export the class; its name is part of its API (jserrors).
    if (error instanceof Error && error.name === 'JetStreamNotEnabled')
      throw new JetStreamUnreachableError(nc.getServer(), jsDomains.get(nc), error);
    throw error;
  }
};

/** The KV manager of the connection, in its domain (puts go to `$JS.<domain>.API.$KV.…`). */
export const kvmOf = (nc: NatsConnection): Kvm => new Kvm(jetStreamOf(nc));
