import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptSecret } from '../../src/platform/secrets.ts';
import { bearer, loginAs } from '../helpers/auth.ts';
import { callEvent, postSigned } from '../helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, TEST_ENCRYPTION_KEY, uniqueId, writeClientFile, type TestApp } from '../helpers/test-app.ts';

/**
 * Runs the platform with real-looking secrets from every source (environment references, sealed
 * values, literals in a test client, platform keys), drives successful and failing requests, and
 * then searches every captured log line and response body for those values.
 */
describe('no secret value reaches logs or responses', () => {
  let t: TestApp;
  const bodies: string[] = [];
  const envClient = uniqueId('sec-env');
  const sealedClient = uniqueId('sec-enc');
  const literalClient = uniqueId('sec-lit');
  const missingClient = uniqueId('sec-miss');
  const secrets = {
    retellEnv: 'key_live_ENV_9f8e7d6c5b4a39281706',
    twilioEnv: 'twilio_token_ENV_5a4b3c2d1e0f9a8b',
    sealedRetell: 'key_live_SEALED_1a2b3c4d5e6f7a8b9c',
    sealedSendgrid: 'SG.sealed_value_77665544332211',
    literalText180: 'text180_literal_key_abcdef123456',
  };

  beforeAll(async () => {
    const dir = tempDir('clients-');
    const key = Buffer.from(TEST_ENCRYPTION_KEY, 'hex');
    writeClientFile(dir, {
      ...testClientConfig(envClient),
      environment: 'live',
      retell: { api_key: 'env:SEC_RETELL_KEY', agent_ids: [`agent_${envClient.replaceAll('-', '')}`] },
      sms: { enabled: true, provider: 'twilio', account_sid: 'AC00000000000000000000000000000001', auth_token: 'env:SEC_TWILIO_TOKEN', from_number: '+15005550006' },
    });
    writeClientFile(dir, {
      ...testClientConfig(sealedClient),
      environment: 'live',
      retell: { api_key: encryptSecret(secrets.sealedRetell, key), agent_ids: [`agent_${sealedClient.replaceAll('-', '')}`] },
      email: { enabled: true, provider: 'sendgrid', api_key: encryptSecret(secrets.sealedSendgrid, key), from: 'Biz <hi@biz.example>' },
    });
    writeClientFile(dir, {
      ...testClientConfig(literalClient),
      sms: { enabled: true, provider: 'text180', auth_key: secrets.literalText180, account_id: '1', short_code: '55512', keyword: 'KW' },
    });
    writeClientFile(dir, { ...testClientConfig(missingClient), environment: 'live', retell: { api_key: 'env:SEC_NOT_SET_ANYWHERE', agent_ids: ['agent_x'] } });
    t = await createTestApp({ clientsDir: dir, env: { SEC_RETELL_KEY: secrets.retellEnv, SEC_TWILIO_TOKEN: secrets.twilioEnv, LOG_LEVEL: 'trace' } });
  });
  afterAll(() => t.close());

  it('drives good and bad requests', async () => {
    const record = (res: { body: string }) => bodies.push(res.body);
    record(await postSigned(t.app, envClient, callEvent(envClient, 'call_started', 'call_s1'), { key: secrets.retellEnv }));
    record(await postSigned(t.app, envClient, callEvent(envClient, 'call_started', 'call_s2'), { key: 'wrong-key-000000' }));
    record(await postSigned(t.app, sealedClient, callEvent(sealedClient, 'call_ended', 'call_s3'), { key: secrets.sealedRetell }));
    record(await postSigned(t.app, sealedClient, '{not json', { key: secrets.sealedRetell }));
    record(await postSigned(t.app, missingClient, callEvent(missingClient, 'call_started', 'call_s4')));
    // The detailed /ready (a platform admin's) lists the invalid client and why, without the secret.
    record(await t.app.inject({ method: 'GET', url: '/ready', headers: bearer((await loginAs(t, 'platform_admin')).accessToken) }));
    record(await t.app.inject({ method: 'GET', url: '/metrics' }));
    // A secret pasted into a log message by mistake is scrubbed too.
    t.deps.logger.error({ detail: `token was ${secrets.twilioEnv}` }, `oops ${secrets.sealedSendgrid}`);
    expect(bodies[0]).toBe('');
    const ready = JSON.parse(bodies[5]!);
    expect(ready.clients.invalid.map((c: { id: string }) => c.id)).toContain(missingClient);
    expect(JSON.stringify(ready)).toContain('SEC_NOT_SET_ANYWHERE');
  });

  it('finds no secret value in any log line or response body', () => {
    const output = t.logs.join('');
    expect(t.logs.length).toBeGreaterThan(5);
    expect(output).toContain('[REDACTED]');
    const platform = [
      'test-jwt-secret-0123456789abcdef-0123456789',
      'test-refresh-secret-0123456789abcdef-012345',
      TEST_ENCRYPTION_KEY,
    ];
    for (const value of [...Object.values(secrets), ...platform]) {
      expect(output, `log contains ${value.slice(0, 6)}…`).not.toContain(value);
      for (const body of bodies) expect(body).not.toContain(value);
    }
  });
});
