/**
 * Runs `handle` for each item in arrival order. A handler that returns a promise (a token check
 * in flight) holds back every later item until it settles, so answers leave in message order;
 * while nothing is pending, items are handled synchronously with no promise allocated.
 */
export function inArrivalOrder<T>(handle: (item: T) => void | Promise<void>): (item: T) => void {
  let queue: Promise<void> | undefined;
  const settle = (settled: Promise<void>) => {
    void settled.then(() => {
      if (queue === settled) queue = undefined;
    });
  };
  return (item) => {
    if (queue !== undefined) {
      const next: Promise<void> = queue.then(() => handle(item));
      queue = next;
      settle(next);
      return;
    }
    const result = handle(item);
    if (result instanceof Promise) {
      queue = result;
      settle(result);
    }
  };
}
