/** Test plumbing for calls simulated end to end against a test app. */
import type { TestApp } from './test-app.ts';

/** fetch() served by app.inject, delivering every request `times` times (Retell retries). */
export function injectFetch(t: TestApp, times: number): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    let first: Awaited<ReturnType<TestApp['app']['inject']>> | undefined;
    for (let i = 0; i < times; i++) {
      const res = await t.app.inject({
        method: (init?.method ?? 'GET') as 'POST',
        url: url.pathname + url.search,
        headers: init?.headers as Record<string, string>,
        payload: init?.body as string,
      });
      first ??= res;
    }
    return new Response(first!.statusCode === 204 ? null : first!.body, { status: first!.statusCode, headers: { 'content-type': String(first!.headers['content-type'] ?? 'text/plain') } });
  });
}

/** Polls `probe` until it holds, failing after `timeoutMs` (never a fixed sleep). */
export async function until(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

