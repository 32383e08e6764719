import { HubError } from '../errors.js';

/** A query argument a caller must fix (gRPC INVALID_ARGUMENT); the message names the field. */
export class QueryArgumentError extends HubError {
  override name = 'QueryArgumentError';
}
