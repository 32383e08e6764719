// Everything here is generated from proto/argus/v1 by proto/generate.sh; edit the .proto, not this.
export * from './gen/argus/v1/query.js';
export { FILE_DESCRIPTOR_SET_BASE64 } from './gen/descriptor.js';
export { Timestamp } from './gen/google/protobuf/timestamp.js';
