import { ENVELOPE_ALLOWANCE_BYTES } from '@argus/cdevents';
import { answerJson, type ExtraRoute, HttpProblem, type Logger, receiverRoute } from '@argus/runtime';
import type { Application } from '../argocd/types.js';
import { AgentStoppingError, NotAnApplicationError } from '../errors.js';
import { notificationsVerifier, receive } from './receiver.js';
import type { AppSource, SourceEvent } from './source.js';

/** Where Argo CD Notifications posts Applications (deploy/argocd-notifications: the `argus` webhook). */
export { NotAnApplicationError };

export const APPLICATION_WEBHOOK_PATH = '/api/v1/notifications/applications';

/**
 * The Application in a Notifications post: `{"app": <Application>, ...}` as the shipped template
 * sends it (and as `{"app": {{toJson .app}}}` templates of other tools do), or a bare Application.
 */
export const applicationOf = (body: Buffer): Application => {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new NotAnApplicationError('not-json', `the body is not JSON: ${(err as Error).message}`);
  }
  const candidate =
    value !== null && typeof value === 'object' && 'app' in value ? (value as { app: unknown }).app : value;
  const app = candidate as Partial<Application> | null;
  if (app === null || typeof app !== 'object' || Array.isArray(app)) {
    throw new NotAnApplicationError(
      'not-an-application',
      'expected an Application, or {"app": <Application>}',
    );
  }
  if (typeof app.metadata?.name !== 'string' || app.metadata.name === '') {
    throw new NotAnApplicationError('not-an-application', 'the Application has no metadata.name');
  }
  if (app.spec !== undefined && (typeof app.spec !== 'object' || app.spec === null)) {
    throw new NotAnApplicationError('not-an-application', 'the Application spec is not an object');
  }
  return app as Application;
};

interface Waiting {
  readonly app: Application;
  readonly handled: () => void;
}

/**
 * Applications as Argo CD Notifications posts them, followed like any other source: the agent runs
 * the same detector with its progress in KV, so a post missed while the agent was away (Argo CD
 * Notifications does not send a failed delivery again) is made up by the app's next post, from
 * `status.history`. There is no list: nothing is ever removed for being absent, only for being
 * deleted (a post with `deletionTimestamp`).
 */
export class NotificationsAppSource implements AppSource {
  readonly name = 'webhook' as const;
  readonly reconnects = 0;
  readonly lastError = undefined;
  readonly #queue: Waiting[] = [];
  #wake: (() => void) | undefined;
  #stopped = false;

  async clusterNames(): Promise<ReadonlyMap<string, string>> {
    return new Map();
  }

  /** Hands a posted app to the agent; resolves once the agent has handled it (its events are in the spool). */
  push(app: Application): Promise<void> {
    if (this.#stopped) return Promise.reject(new AgentStoppingError());
    return new Promise((resolve) => {
      this.#queue.push({ app, handled: resolve });
      this.#wake?.();
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#wake?.();
  }

  async *events(): AsyncGenerator<SourceEvent> {
    yield { type: 'ready' };
    while (!this.#stopped) {
      const next = this.#queue.shift();
      if (next === undefined) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      yield { type: 'upsert', app: next.app };
      // The agent asks for the next event only once it has handled this one.
      next.handled();
    }
  }
}

export interface ApplicationWebhookConfig {
  readonly source: NotificationsAppSource;
  readonly logger: Logger;
  readonly token?: string | undefined;
  readonly maxBytes: number;
}

/**
 * `POST /api/v1/notifications/applications`: 202 once the app's changes are detected and spooled
 * (durable: they reach NATS whenever it is there), 400 for a body that is no Application, 401, 413.
 */
export const applicationWebhookRoute = (config: ApplicationWebhookConfig): ExtraRoute => {
  const logger = config.logger.child({ component: 'notifications' });
  const verifier = notificationsVerifier(config.token);
  // The Application inside its `{"app": ...}` wrapper, like an event inside its envelope.
  const maxBodyBytes = config.maxBytes + ENVELOPE_ALLOWANCE_BYTES;
  return receiverRoute(APPLICATION_WEBHOOK_PATH, async (req, res) => {
    const body = await receive(verifier, req, maxBodyBytes);
    let app: Application;
    try {
      app = applicationOf(body);
    } catch (err) {
      if (!(err instanceof NotAnApplicationError)) throw err;
      logger.info({ reason: err.reason, detail: err.message }, 'notification refused: no Application in it');
      throw new HttpProblem(400, err.message, { reason: err.reason });
    }
    try {
      await config.source.push(app);
    } catch (err) {
      if (!(err instanceof AgentStoppingError)) throw err;
      throw new HttpProblem(503, `not accepted now: ${err.message}; retry later`);
    }
    answerJson(res, 202, { accepted: app.metadata.name });
  });
};
