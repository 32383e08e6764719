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

export const query = async <T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T> => {
  let res: Response;
  try {
    res = await fetch(address(path, params), { headers: headers(), ...(signal ? { signal } : {}) });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new Unreachable('hub unreachable: is the hub running, and is this its address?');
  }
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
