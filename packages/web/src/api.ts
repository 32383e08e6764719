/** The hub's HTTP JSON API (GET /api/v1/query/...), with the bearer token kept for this tab only. */

const PREFIX = '/api/v1/query/';
const TOKEN_KEY = 'argus.apiToken';

/** The hub answered 401: the page asks for a token. */
export class Unauthorized extends Error {}
/** The hub answered 403: the token is known but may not make this call (replay needs an admin token). */
export class Forbidden extends Error {}
/** No answer from the hub at all. */
export class Unreachable extends Error {}

export const savedToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const saveToken = (token: string): void => sessionStorage.setItem(TOKEN_KEY, token);

const headers = (): Record<string, string> => {
  const token = savedToken();
  return token === null ? {} : { authorization: `Bearer ${token}` };
};

export type Params = Readonly<Record<string, string | undefined>>;

const address = (path: string, params: Params): string => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const query = search.toString();
  return `${PREFIX}${path}${query === '' ? '' : `?${query}`}`;
};

const failure = async (res: Response): Promise<Error> => {
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  const message = body.error ?? `the hub answered ${res.status}`;
  if (res.status === 401) return new Unauthorized(message);
  return res.status === 403 ? new Forbidden(message) : new Error(message);
};

/**
 * Answers started before the page's modules ran, by address (early.ts). That script is bundled apart
 * from the page's modules, so the two meet on a global rather than in a module of both.
 */
const EARLY_ANSWERS = '__argusEarlyAnswers';
/** An early answer not taken by then is not used: the page asks again (its data could be old). */
const EARLY_KEPT_MS = 10_000;
type EarlyAnswers = Map<string, { readonly at: number; readonly answer: Promise<Response> }>;
const earlyAnswers = (): EarlyAnswers => {
  const scope = globalThis as typeof globalThis & { [EARLY_ANSWERS]?: EarlyAnswers };
  scope[EARLY_ANSWERS] ??= new Map();
  return scope[EARLY_ANSWERS];
};

/** Starts `call` now; the first `query` of the same address takes its answer instead of asking again. */
export const startEarly = (call: { readonly path: string; readonly params: Params }): void => {
  const url = address(call.path, call.params);
  const answer = fetch(url, { headers: headers() });
  // Taken or not, a failed early call is no error of its own: the page's call reports it.
  answer.catch(() => undefined);
  earlyAnswers().set(url, { at: performance.now(), answer });
};

const takeEarly = (url: string): Promise<Response> | undefined => {
  const early = earlyAnswers().get(url);
  earlyAnswers().delete(url);
  return early !== undefined && performance.now() - early.at < EARLY_KEPT_MS ? early.answer : undefined;
};

export const query = async <T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T> => {
  const url = address(path, params);
  let res: Response;
  try {
    res = await (takeEarly(url) ?? fetch(url, { headers: headers(), ...(signal ? { signal } : {}) }));
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new Unreachable('hub unreachable: is the hub running, and is this its address?');
  }
  // An early answer cannot be aborted: one that arrives for a page already left is dropped here.
  signal?.throwIfAborted();
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
};

/**
 * A call that changes something (a replay): POST with a JSON content type, which the hub requires
 * so that a cross-site form can never make it.
 */
export const post = async <T>(path: string): Promise<T> => {
  let res: Response;
  try {
    res = await fetch(address(path, {}), {
      method: 'POST',
      headers: { ...headers(), 'content-type': 'application/json' },
      body: '{}',
    });
  } catch {
    throw new Unreachable('hub unreachable: is the hub running, and is this its address?');
  }
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
};

export interface ApiEvent {
  id: string;
  source: string;
  type: string;
  subjectType: string;
  predicate: string;
  subjectId: string;
  timestamp: string;
  instance: string;
  cluster: string;
  environment: string;
  chainId: string;
  artifactId: string;
  cdeventJson: string;
}

/**
 * Follows `stream` (Server-Sent Events read with fetch, since EventSource cannot send the token
 * as a header and the token must never be in the address). Events come in batches, one per chunk.
 */
export const follow = async (
  params: Params,
  onEvents: (events: ApiEvent[]) => void,
  signal: AbortSignal,
): Promise<void> => {
  let res: Response;
  try {
    res = await fetch(address('stream', params), { headers: headers(), signal });
  } catch (error) {
    if (signal.aborted) return;
    throw new Unreachable(`hub unreachable: ${(error as Error).message}`);
  }
  if (!res.ok || res.body === null) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read().catch((error: unknown) => {
      if (signal.aborted) return { value: undefined, done: true };
      throw error;
    });
    if (done) return;
    buffered += value;
    const blocks = buffered.split('\n\n');
    buffered = blocks.pop() ?? '';
    const events: ApiEvent[] = [];
    for (const block of blocks) {
      const data = block
        .split('\n')
        .find((line) => line.startsWith('data: '))
        ?.slice(6);
      if (data === undefined) continue;
      if (block.includes('event: error')) throw new Error((JSON.parse(data) as { error: string }).error);
      events.push(JSON.parse(data) as ApiEvent);
    }
    if (events.length > 0) onEvents(events);
  }
};
