/** One run at a time per key: callers arriving while it runs share its result. */
const inFlight = new Map<string, Promise<unknown>>();
export function singleFlight<T>(key: string, work: () => Promise<T>): Promise<T> {
  const running = inFlight.get(key);
  if (running) return running as Promise<T>;
  const started = work().finally(() => inFlight.delete(key));
  inFlight.set(key, started);
  return started;
}
