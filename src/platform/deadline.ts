/**
 * Deadlines: the one helper for "this work, or give up after `ms`". `onTimeout` decides what
 * giving up means: throw (a typed timeout error) or return a fallback value. The timer is cleared
 * either way; the work itself is not cancelled (pass it an AbortSignal for that).
 */
export async function withDeadline<T, F = never>(work: Promise<T> | (() => Promise<T>), ms: number, onTimeout: () => F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<F>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    }, ms);
  });
  try {
    return await Promise.race([typeof work === 'function' ? work() : work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
