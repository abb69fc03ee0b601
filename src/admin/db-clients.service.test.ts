/**
 * A server notices database-backed client changes made by another process that could not announce
 * them (no Redis; `xlnc onboard --store db` against a server holding the embedded database): the
 * store polls the table's fingerprint and reloads when it moves.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_ENCRYPTION_KEY, tempDir, testClientConfig, uniqueId, type TestApp } from '../../test/helpers/test-app.ts';
import { createClientRegistry, type ClientRegistry } from '../clients/client-registry.ts';
import { adminClientsServiceFrom } from './admin-clients.service.ts';
import { createDbClientStore, type DbClientStore } from './db-clients.service.ts';

const actor = { userId: null, requestId: null };

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

describe('database clients changed by another process', () => {
  let t: TestApp;
  const others: Array<{ registry: ClientRegistry; store: DbClientStore }> = [];

  /** Another server: its own registry and store over the same database, hearing no signal. */
  async function anotherServer(pollIntervalMs: number) {
    const logger = pino({ level: 'silent' });
    const keys = [Buffer.from(TEST_ENCRYPTION_KEY, 'hex')];
    const registry = createClientRegistry({ dir: tempDir('db-poll-'), env: {}, encryptionKeys: keys, strict: false, logger, pollIntervalMs: 0, watch: false });
    await registry.start();
    const store = createDbClientStore({ tenancy: t.deps.tenancy, registry, encryptionKeys: keys, logger, onSecret: () => undefined, pollIntervalMs });
    await store.start();
    others.push({ registry, store });
    return registry;
  }

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    for (const other of others) {
      await other.store.close();
      await other.registry.close();
    }
    await t.close();
  });

  it('a poll loads a client created and then changed elsewhere; with polling off it is never seen', async () => {
    const polling = await anotherServer(50);
    const deaf = await anotherServer(0);
    const id = uniqueId('poll');
    const clients = adminClientsServiceFrom(t.deps);
    await clients.create(actor, { ...testClientConfig(id), name: 'Before' });
    expect(await until(() => polling.get(id)?.config?.name === 'Before', 10_000)).toBe(true);
    expect(polling.get(id)).toMatchObject({ source: 'db', status: 'active' });

    await clients.update(actor, id, { name: 'After' }, 1);
    expect(await until(() => polling.get(id)?.config?.name === 'After', 10_000)).toBe(true);

    await clients.disable(actor, id, 2);
    expect(await until(() => polling.get(id)?.status === 'disabled', 10_000)).toBe(true);
    expect(deaf.get(id)).toBeUndefined();
  });
});
