import { HEADERS, HeaderList, type OutgoingMessage, UNIFIED_STREAM, unifiedSubject } from '@argus/bus';
import { cloudEventAttributes, natsBinaryProblem } from '@argus/cdevents';
import { RejectedMessage } from '../errors.js';
import type { AdmittedEvent } from './admitted.js';

/**
 * The unified-stream message of an admitted event: binary mode, the hub's tags as headers, the
 * identity as message id; or the refusal of an event NATS headers cannot carry.
 */
export const unifiedMessage = (
  admitted: AdmittedEvent,
): (OutgoingMessage & { readonly headers: HeaderList }) | RejectedMessage => {
  const problem = natsBinaryProblem(admitted.event);
  if (problem !== undefined) return RejectedMessage.of('binding', problem);
  const a = cloudEventAttributes(admitted.event);
  const { tags } = admitted;
  // A fresh list with distinct names: append, which skips set's search for an earlier value.
  const h = new HeaderList();
  h.append('ce-specversion', a.specversion);
  h.append('ce-id', a.id);
  h.append('ce-source', a.source);
  h.append('ce-type', a.type);
  h.append('ce-subject', a.subject);
  h.append('ce-time', a.time);
  h.append('content-type', a.datacontenttype);
  // The identity as message id: a republish after a crash is absorbed by the stream's window.
  h.append(HEADERS.msgId, admitted.identity);
  h.append(HEADERS.expectedStream, UNIFIED_STREAM);
  h.append(HEADERS.instance, tags.instance);
  h.append(HEADERS.cluster, tags.cluster);
  if (tags.environment !== '') h.append(HEADERS.environment, tags.environment);
  if (Object.keys(tags.labels).length > 0) h.append(HEADERS.labels, JSON.stringify(tags.labels));
  h.append(HEADERS.specVersion, admitted.specVersion);
  return {
    subject: unifiedSubject(tags.cluster, admitted.subjectType, admitted.predicate),
    data: admitted.body,
    headers: h,
  };
};
