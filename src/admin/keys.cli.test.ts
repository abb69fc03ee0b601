import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, loginAs } from '../../test/helpers/auth.ts';
import { callEvent, postSigned } from '../../test/helpers/retell.ts';
import { createTestApp, TEST_ENCRYPTION_KEY, testClientConfig, uniqueId, type TestApp } from '../../test/helpers/test-app.ts';
import type { CliIo } from '../clients/clients.cli.ts';
import { sqlRows } from '../platform/db/database.ts';
import { clientConfigs } from '../platform/db/schema.ts';
import { decryptSecret, encryptionKeyId } from '../platform/secrets.ts';
import { keysRotate } from './keys.cli.ts';

describe('xlnc keys rotate', () => {
  let t: TestApp;
  const oldKey = Buffer.from(TEST_ENCRYPTION_KEY, 'hex');
  const newKey = Buffer.from('a1'.repeat(32), 'hex');

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  // --client keeps this test to its own client: in PostgreSQL mode the database is shared by every test file.
  it('re-seals every stored secret with the current key; old ciphertexts are opened by their key id', async () => {
    const admin = await loginAs(t, 'platform_admin');
    const id = uniqueId('keys');
    const apiKey = `key_live_${id.replaceAll('-', '_')}_rotate_1234`;
    const body = { ...testClientConfig(id, { environment: 'live' }), retell: { api_key: apiKey, agent_ids: [`agent_${id.replaceAll('-', '')}`] } };
    const created = await t.app.inject({ method: 'POST', url: '/api/admin/clients', headers: bearer(admin.accessToken), payload: body });
    expect(created.statusCode).toBe(201);
    const storedKey = async () => {
      const [row] = await t.deps.tenancy.withPlatform((tx) => tx.select().from(clientConfigs).where(eq(clientConfigs.id, id)));
      return { apiKey: (row?.config as { retell: { api_key: string } }).retell.api_key, version: row?.version };
    };
    expect((await storedKey()).apiKey).toMatch(new RegExp(`^enc:v1:${encryptionKeyId(oldKey)}:`));

    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), env: {}, encryptionKeys: [newKey, oldKey] };
    expect(await keysRotate(['--client', id], io, { database: t.deps.database }), err.join('')).toBe(0);
    expect(out.join('')).toMatch(/Re-sealed [1-9]\d* secret/);

    const after = await storedKey();
    expect(after.apiKey).toMatch(new RegExp(`^enc:v1:${encryptionKeyId(newKey)}:`));
    expect(decryptSecret(after.apiKey, [newKey])).toBe(apiKey);
    expect(after.version).toBe(1);
    const audit = await sqlRows<{ action: string; actor: string }>(t.deps.database.db, sql`select action, actor from audit_log where client_id = ${id} and action = 'keys.rotate'`);
    expect(audit).toEqual([{ action: 'keys.rotate', actor: 'cli' }]);

    // A second run has nothing left for this client.
    const again: string[] = [];
    expect(await keysRotate(['--client', id], { ...io, stdout: (s) => void again.push(s) }, { database: t.deps.database })).toBe(0);
    expect((await storedKey()).apiKey).toBe(after.apiKey);

    // Without the new key, this instance cannot open the re-sealed value: reloading marks the client invalid, by key id only.
    await t.deps.dbClients.loadAll();
    expect(t.deps.registry.get(id)?.status).toBe('invalid');
    expect(JSON.stringify(t.deps.registry.get(id)?.issues)).toContain(encryptionKeyId(newKey));
    expect((await postSigned(t.app, id, callEvent(id, 'call_started', 'c1'), { key: apiKey })).statusCode).toBe(503);
  });
});
