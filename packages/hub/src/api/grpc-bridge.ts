import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import {
  type handleServerStreamingCall,
  type handleUnaryCall,
  Metadata,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';

/**
 * Runs the gRPC query service's own handlers for HTTP requests, so the JSON API has no second query
 * implementation: authentication, argument checks, limits and error statuses are the gRPC ones.
 * These adapters give a handler the parts of a grpc-js call it uses (request, metadata,
 * `cancelled`, write/drain/end, `error`).
 */

/** The metadata of a call made with an HTTP request's Authorization header. */
export const callMetadata = (authorization: string | undefined): Metadata => {
  const metadata = new Metadata();
  if (authorization !== undefined) metadata.set('authorization', authorization);
  return metadata;
};

/** Calls a unary handler; rejects with the handler's gRPC error. The call is cancelled when `res` closes early. */
export const callUnary = <Req, Res>(
  handler: handleUnaryCall<Req, Res>,
  request: Req,
  authorization: string | undefined,
  res: ServerResponse,
): Promise<Res> => {
  const call = Object.assign(new EventEmitter(), {
    request,
    metadata: callMetadata(authorization),
    cancelled: false,
  });
  res.once('close', () => {
    if (res.writableFinished) return;
    call.cancelled = true;
    call.emit('cancelled');
  });
  return new Promise((resolve, reject) =>
    handler(call as unknown as ServerUnaryCall<Req, Res>, (err, value) =>
      err === null && value !== undefined && value !== null
        ? resolve(value)
        : reject(err ?? new Error('no answer')),
    ),
  );
};

/** Where a server-streaming call's messages and end go. */
export interface StreamSink<Res> {
  /** A message; `false` when the client's buffer is full ('drain' follows). */
  write(message: Res): boolean;
  /** The handler ended the stream. */
  end(): void;
  /** The handler failed (before or after its first message). */
  fail(error: ServerErrorResponse): void;
}

/**
 * Starts a server-streaming handler writing to `sink`; `res` closing cancels it. Returns the error
 * the handler raised synchronously (authentication, arguments, limits), before anything was sent.
 */
export const callStream = <Req, Res>(
  handler: handleServerStreamingCall<Req, Res>,
  request: Req,
  authorization: string | undefined,
  res: ServerResponse,
  sink: StreamSink<Res>,
): ServerErrorResponse | undefined => {
  let early: ServerErrorResponse | undefined;
  let started = false;
  const call = Object.assign(new EventEmitter(), {
    request,
    metadata: callMetadata(authorization),
    cancelled: false,
    write: (message: Res) => sink.write(message),
    end: () => {
      if (!call.cancelled) sink.end();
      call.emit('finish');
    },
  });
  call.on('error', (error: ServerErrorResponse) => {
    if (!started) early = error;
    else if (!call.cancelled) sink.fail(error);
  });
  res.on('drain', () => call.emit('drain'));
  res.once('close', () => {
    call.cancelled = true;
    call.emit('cancelled');
    call.emit('close');
  });
  handler(call as unknown as ServerWritableStream<Req, Res>);
  started = true;
  return early;
};
