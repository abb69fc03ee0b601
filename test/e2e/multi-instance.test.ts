import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callEvent, postSigned } from '../helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../helpers/test-app.ts';
import { TEST_REDIS_URL } from '../helpers/test-db.ts';

/** Two instances of the platform sharing one database and one Redis, as behind a load balancer. */
describe.runIf(TEST_REDIS_URL)('several instances with Redis', () => {
  let one: TestApp;
  let two: TestApp;
  let dir: string;
  const shared = uniqueId('multi');

  beforeAll(async () => {
    dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(shared, { limits: { webhooks_per_minute: 4 } }));
    one = await createTestApp({ clientsDir: dir });
    // The second instance neither polls nor watches: only the Redis signal can tell it about changes.
    two = await createTestApp({ clientsDir: dir, pollIntervalMs: 0, watchClients: false });
  });
  afterAll(async () => {
    await one.close();
    await two.close();
  });

  it('a client file change seen by one instance reaches the other through Redis within 2 s', async () => {
    const fresh = uniqueId('multi-new');
    writeClientFile(dir, testClientConfig(fresh));
    const started = Date.now();
    for (;;) {
      const res = await postSigned(two.app, fresh, callEvent(fresh, 'call_started', 'call_m1'));
      if (res.statusCode === 204) break;
      expect(res.statusCode).toBe(404);
      expect(Date.now() - started).toBeLessThan(2000);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('the per-client webhook rate limit is shared across instances', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const app = i % 2 === 0 ? one.app : two.app;
      statuses.push((await postSigned(app, shared, callEvent(shared, 'call_started', `call_rl_${i}`))).statusCode);
    }
    expect(statuses.filter((s) => s === 204)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
  });
});
