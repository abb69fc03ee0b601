/**
 * Redis unreachable from the start (finding 4 of issue 11): webhooks, logins and function calls
 * carry on with process-local rate limits and caches, answering at once. The outage of a running
 * Redis is in src/platform/redis-fallback.test.ts and test/e2e/faults.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/helpers/processes.ts';
import { callEvent, postSigned } from '../../../test/helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../../test/helpers/test-app.ts';

describe('Redis configured but down', () => {
  let t: TestApp;
  const client = uniqueId('noredis');

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(client, { limits: { webhooks_per_minute: 5 } }));
    t = await createTestApp({ clientsDir: dir, env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}/0` } });
  });
  afterAll(() => t.close());

  it('webhooks are stored and answered at once, rate limits still apply (per process), and the outage is logged once', async () => {
    const durations: number[] = [];
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const started = performance.now();
      const res = await postSigned(t.app, client, callEvent(client, 'call_started', `call_${uniqueId('r')}`));
      durations.push(performance.now() - started);
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([204, 204, 204, 204, 204, 429, 429]);
    expect(Math.max(...durations)).toBeLessThan(1_000);
    const degraded = t.logs.filter((line) => line.includes('Redis unavailable'));
    expect(degraded).toHaveLength(1);
    expect(t.logs.join('')).not.toContain('MaxRetriesPerRequestError');
  });

  it('/ready stays 200 and says Redis is down in general terms', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json().checks.redis).toEqual({ ok: false, detail: expect.stringContaining('process-local') });
  });
});
