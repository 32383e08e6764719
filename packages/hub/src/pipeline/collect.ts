import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';

type Next = IteratorResult<JsMsg, undefined>;

/**
 * Groups a consumer's message stream into batches: a batch closes when it holds `maxSize`
 * messages or `maxWaitMs` after its first message, whichever comes first. The next batch is not
 * read until `handle` has finished with this one, which bounds memory to one batch plus the
 * consumer's pull buffer.
 */
export const collectBatches = async (
  messages: ConsumerMessages,
  maxSize: number,
  maxWaitMs: number,
  handle: (batch: JsMsg[]) => Promise<void>,
): Promise<void> => {
  const iterator = messages[Symbol.asyncIterator]() as AsyncIterator<JsMsg, undefined>;
  let pending: Promise<Next> | undefined;
  const next = (): Promise<Next> => {
    pending ??= iterator.next();
    return pending;
  };
  for (;;) {
    const first = await next();
    pending = undefined;
    if (first.done === true) return;
    const batch: JsMsg[] = [first.value];
    const deadline = Date.now() + maxWaitMs;
    let ended = false;
    while (batch.length < maxSize) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), remaining);
      });
      const result = await Promise.race([next(), timeout]);
      clearTimeout(timer);
      if (result === 'timeout') break;
      pending = undefined;
      if (result.done === true) {
        ended = true;
        break;
      }
      batch.push(result.value);
    }
    await handle(batch);
    if (ended) return;
  }
};
