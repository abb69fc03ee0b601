import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callEvent, postSigned } from '../helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../helpers/test-app.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/test-db.ts';
import { agentFor } from '../helpers/retell.ts';

/** Two instances of the platform sharing one database and one Redis, as behind a load balancer. */
describe.runIf(TEST_REDIS_URL && TEST_DATABASE_URL)('several instances with Redis', () => {
  let one: TestApp;
  let two: TestApp;
  let dir: string;
  const shared = uniqueId('multi');
  const capped = uniqueId('multi-cap');

  beforeAll(async () => {
    dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(shared, { limits: { webhooks_per_minute: 4 } }));
    writeClientFile(dir, testClientConfig(capped, { limits: { max_concurrent_calls: 1, overflow: 'reject' } }));
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

  it('the concurrency cap counts calls active on any instance', async () => {
    const inbound = (app: TestApp['app']) =>
      postSigned(app, capped, { event: 'call_inbound', call_inbound: { agent_id: agentFor(capped), from_number: '+14155550142', to_number: '+14155550100' } });
    expect((await inbound(two.app)).json().call_inbound.reject).toBeUndefined();
    await postSigned(one.app, capped, callEvent(capped, 'call_started', 'call_multi_active', { start_timestamp: Date.now() }));
    expect((await inbound(two.app)).json().call_inbound).toEqual({ reject: true });
  });
});
