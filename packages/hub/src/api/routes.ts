import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  GetDeadLetterResponse,
  GetDeploymentsResponse,
  GetDoraMetricsResponse,
  GetServiceTimelineResponse,
  GetStatsResponse,
  ListDeadLettersResponse,
  ListInstancesResponse,
  type QueryServiceServer,
  ReplayDeadLetterResponse,
  RunSqlResponse,
  SearchEventsResponse,
} from '@argus/query-api';
import { type ExtraRoute, isLoopback, type Logger } from '@argus/runtime';
import type { ServerErrorResponse } from '@grpc/grpc-js';
import { authorize, type QueryServiceDeps, queryService, toServiceError } from '../query/service.js';
import { callMetadata, callStream, callUnary } from './grpc-bridge.js';
import {
  deadLetterSequence,
  deadLettersParams,
  deploymentParams,
  doraParams,
  filterParams,
  noParams,
  searchParams,
  sqlParams,
  timelineParams,
} from './params.js';
import { sseSink } from './sse.js';
import { httpError } from './status.js';

/** Where the HTTP JSON query API lives (the ingest is `POST /api/v1/events`). */
export const QUERY_API_PREFIX = '/api/v1/query/';

/** An error the query service raised as a gRPC status (its `code` a number, with metadata). */
const isStatus = (error: unknown): error is ServerErrorResponse =>
  error instanceof Error && typeof (error as { code?: unknown }).code === 'number' && 'metadata' in error;

type Answer = (params: URLSearchParams, req: IncomingMessage, res: ServerResponse) => Promise<unknown>;

/** One dead letter (`dead-letters/<seq>`) and its replay (`dead-letters/<seq>/replay`). */
const DEAD_LETTER_PATH = /^dead-letters\/([^/]+)(\/replay)?$/;

/**
 * `GET /api/v1/query/…`: the query service as JSON over HTTP, for the dashboard and for scripts.
 * Each call runs the gRPC handler itself (see grpc-bridge.ts); tokens are the gRPC ones
 * (`--api-tokens`, `Authorization: Bearer`), errors the gRPC statuses as 400/401/403/404/409/429/
 * 500/503 with `{error, code}`. `stream` is the live tail as Server-Sent Events. The one call that
 * changes something, a dead letter's replay, is `POST` only (a prefetch or a link preview never
 * replays) with `Content-Type: application/json`, which a cross-site form cannot send: a page
 * elsewhere cannot make a browser on the hub's machine replay when the hub has no tokens.
 */
export const queryApiRoute = (deps: QueryServiceDeps): ExtraRoute => {
  const logger: Logger = deps.logger.child({ component: 'query-http' });
  // Its own handlers (and so its own count of tails per caller, the same limit as gRPC's).
  const service: QueryServiceServer = queryService(deps);

  const unary: Record<string, Answer> = {
    events: async (params, req, res) =>
      SearchEventsResponse.toJSON(
        await callUnary(service.searchEvents, searchParams(params), req.headers.authorization, res),
      ),
    dora: async (params, req, res) =>
      GetDoraMetricsResponse.toJSON(
        await callUnary(service.getDoraMetrics, doraParams(params), req.headers.authorization, res),
      ),
    instances: async (params, req, res) => {
      noParams(params);
      return ListInstancesResponse.toJSON(
        await callUnary(service.listInstances, {}, req.headers.authorization, res),
      );
    },
    stats: async (params, req, res) => {
      noParams(params);
      return GetStatsResponse.toJSON(await callUnary(service.getStats, {}, req.headers.authorization, res));
    },
    'dead-letters': async (params, req, res) =>
      ListDeadLettersResponse.toJSON(
        await callUnary(service.listDeadLetters, deadLettersParams(params), req.headers.authorization, res),
      ),
    sql: async (params, req, res) =>
      RunSqlResponse.toJSON(
        await callUnary(service.runSql, sqlParams(params), req.headers.authorization, res),
      ),
    deployments: async (params, req, res) =>
      GetDeploymentsResponse.toJSON(
        await callUnary(service.getDeployments, deploymentParams(params), req.headers.authorization, res),
      ),
  };

  const deadLetter =
    (replay: boolean): Answer =>
    async (params, req, res) => {
      noParams(params);
      const match = DEAD_LETTER_PATH.exec(
        new URL(req.url ?? '/', 'http://hub').pathname.slice(QUERY_API_PREFIX.length),
      );
      const sequence = deadLetterSequence(match?.[1] ?? '');
      return replay
        ? ReplayDeadLetterResponse.toJSON(
            await callUnary(service.replayDeadLetter, { sequence }, req.headers.authorization, res),
          )
        : GetDeadLetterResponse.toJSON(
            await callUnary(service.getDeadLetter, { sequence }, req.headers.authorization, res),
          );
    };

  const timeline: Answer = async (params, req, res) => {
    const service_ = decodeURIComponent(
      new URL(req.url ?? '/', 'http://hub').pathname.slice(
        `${QUERY_API_PREFIX}services/`.length,
        -'/timeline'.length,
      ),
    );
    return GetServiceTimelineResponse.toJSON(
      await callUnary(
        service.getServiceTimeline,
        timelineParams(service_, params),
        req.headers.authorization,
        res,
      ),
    );
  };

  const stream = (params: URLSearchParams, req: IncomingMessage, res: ServerResponse): void => {
    const sink = sseSink(res);
    const refused = callStream(
      service.tailEvents,
      { filter: filterParams(params) },
      req.headers.authorization,
      res,
      sink,
    );
    if (refused === undefined) sink.open();
    else send(res, httpError(refused));
  };

  const send = (res: ServerResponse, answer: { status: number; body: unknown }): void => {
    if (res.headersSent) return void res.end();
    res
      .writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      .end(JSON.stringify(answer.body));
  };

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    if (!url.pathname.startsWith(QUERY_API_PREFIX)) return false;
    const name = url.pathname.slice(QUERY_API_PREFIX.length);
    const isTimeline = /^services\/[^/]+\/timeline$/.test(name);
    const deadLetterPath = DEAD_LETTER_PATH.exec(name);
    const isReplay = deadLetterPath?.[2] !== undefined;
    const answer = isTimeline
      ? timeline
      : deadLetterPath !== null
        ? deadLetter(isReplay)
        : Object.hasOwn(unary, name)
          ? unary[name]
          : undefined;
    if (answer === undefined && name !== 'stream') {
      send(res, { status: 404, body: { error: `no query call ${url.pathname}`, code: 'NOT_FOUND' } });
      return true;
    }
    const method = isReplay ? 'POST' : 'GET';
    if (req.method !== method) {
      res.setHeader('allow', method);
      send(res, {
        status: 405,
        body: { error: `use ${method} for ${url.pathname}`, code: 'METHOD_NOT_ALLOWED' },
      });
      return true;
    }
    if (isReplay && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      send(res, {
        status: 415,
        body: {
          error: `POST ${url.pathname} with Content-Type: application/json (a cross-site form cannot send it)`,
          code: 'UNSUPPORTED_MEDIA_TYPE',
        },
      });
      return true;
    }
    if (
      deps.tokens.empty &&
      (deps.adminTokens?.empty ?? true) &&
      !isLoopback(req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '')
    ) {
      send(res, {
        status: 401,
        body: {
          error: 'no API tokens are configured: only clients on this machine may query; set --api-tokens',
          code: 'UNAUTHENTICATED',
        },
      });
      return true;
    }
    try {
      // Before the parameters are read: an unauthenticated caller learns nothing about them.
      authorize(deps.tokens, callMetadata(req.headers.authorization), deps.adminTokens);
      if (answer === undefined) stream(url.searchParams, req, res);
      else send(res, { status: 200, body: await answer(url.searchParams, req, res) });
    } catch (error) {
      // gRPC errors come from the handlers already mapped; anything else (parameters) maps here.
      const failure = isStatus(error) ? error : toServiceError(error, logger);
      logger.info({ path: url.pathname, error: failure.message }, 'query refused');
      send(res, httpError(failure));
    }
    return true;
  };
};
