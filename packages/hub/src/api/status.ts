import { status as GrpcStatus, type ServerErrorResponse } from '@grpc/grpc-js';

/** The HTTP status of each gRPC status the query service answers with; anything else is 500. */
const HTTP_STATUS: Readonly<Partial<Record<GrpcStatus, number>>> = {
  [GrpcStatus.INVALID_ARGUMENT]: 400,
  [GrpcStatus.UNAUTHENTICATED]: 401,
  [GrpcStatus.PERMISSION_DENIED]: 403,
  [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.FAILED_PRECONDITION]: 409,
  [GrpcStatus.RESOURCE_EXHAUSTED]: 429,
  [GrpcStatus.UNAVAILABLE]: 503,
  [GrpcStatus.DEADLINE_EXCEEDED]: 504,
};

/** An API error answer: the HTTP status and the JSON body (`error` is the gRPC message, `code` its name). */
export const httpError = (
  error: ServerErrorResponse,
): { readonly status: number; readonly body: { error: string; code: string } } => {
  const code = error.code ?? GrpcStatus.INTERNAL;
  return {
    status: HTTP_STATUS[code] ?? 500,
    body: { error: error.details ?? error.message, code: GrpcStatus[code] ?? 'INTERNAL' },
  };
};
