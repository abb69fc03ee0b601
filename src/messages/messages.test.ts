import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isServable, type ServableClient } from '../clients/client.schema.ts';
import { customers, messages } from '../platform/db/schema.ts';
import { sqlRows } from '../platform/db/database.ts';
import { startTwilioFake, type TwilioFake } from '../../test/fakes/twilio-fake.ts';
import { twilioSignature } from '../integrations/sms/twilio.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import { readIntegrationHealth } from '../integrations/integration-health.ts';
import { sendMessage } from './message-send.job.ts';
import { initialStatus, queueMessage } from './messages.service.ts';
import { nextSendTime } from './quiet-hours.ts';

describe('quiet hours', () => {
  const window = { start: '21:00', end: '08:00' };
  it('holds a text due at night until the morning, in the client timezone (DST-aware)', () => {
    // 23:30 in New York on 2026-11-01 (after the fall-back) is 04:30Z on 11-02.
    const release = nextSendTime(new Date('2026-11-02T04:30:00Z'), 'America/New_York', window);
    expect(release.toISOString()).toBe('2026-11-02T13:00:00.000Z');
    // 07:59 local the same morning is still quiet; 08:00 is not.
    expect(nextSendTime(new Date('2026-11-02T12:59:00Z'), 'America/New_York', window).toISOString()).toBe('2026-11-02T13:00:00.000Z');
    const morning = new Date('2026-11-02T13:00:00Z');
    expect(nextSendTime(morning, 'America/New_York', window)).toBe(morning);
  });
  it('a window that does not wrap midnight, and a disabled one', () => {
    expect(nextSendTime(new Date('2026-06-01T13:30:00Z'), 'UTC', { start: '13:00', end: '14:00' }).toISOString()).toBe('2026-06-01T14:00:00.000Z');
    const now = new Date('2026-06-01T03:00:00Z');
    expect(nextSendTime(now, 'UTC', { start: '00:00', end: '00:00' })).toBe(now);
  });
});

describe('sending messages', () => {
  let t: TestApp;
  let twilio: TwilioFake;
  const live = uniqueId('msg-live');
  const sandbox = uniqueId('msg-test');
  const sid = `AC${'2'.repeat(32)}`;
  const token = 'twilio-token-msg-000222';
  let liveClient: ServableClient;

  const row = async (clientId: string, id: string) =>
    (await t.deps.tenancy.withTenant(clientId, (tx) => tx.select().from(messages).where(and(eq(messages.clientId, clientId), eq(messages.id, id)))))[0]!;

  const queue = (client: ServableClient, overrides: Partial<Parameters<typeof queueMessage>[2]> = {}, now?: Date) =>
    t.deps.tenancy.withTenant(client.id, (tx) =>
      queueMessage(tx, client, { channel: 'sms', kind: 'followup', idempotencyKey: `test:${uniqueId('k')}`, callId: null, customerId: null, to: '+14155550142', body: 'Thanks for calling!', ...overrides }, t.deps, now),
    );

  beforeAll(async () => {
    twilio = await startTwilioFake({ accounts: { [sid]: token } });
    const dir = tempDir('clients-');
    const sms = { enabled: true, provider: 'twilio', account_sid: sid, auth_token: 'env:MSG_TWILIO_TOKEN', from_number: '+15005550006', api_base_url: twilio.url, quiet_hours: { start: '00:00', end: '00:00' } };
    writeClientFile(dir, { ...testClientConfig(live), environment: 'live', retell: { api_key: 'env:MSG_RETELL', agent_ids: ['agent_x'] }, sms });
    writeClientFile(dir, testClientConfig(sandbox, { sms: { ...sms, auth_token: token } }));
    t = await createTestApp({ clientsDir: dir, env: { MSG_TWILIO_TOKEN: token, MSG_RETELL: 'key_live_msg_0001' } });
    const record = t.deps.registry.get(live);
    if (!isServable(record)) throw new Error('live client not servable');
    liveClient = record;
  });
  afterAll(async () => {
    await t.close();
    await twilio.close();
  });

  it('initial status: sandbox for test clients, suppressed when opted out, held in quiet hours', () => {
    const sandboxClient = t.deps.registry.get(sandbox) as ServableClient;
    const input = { channel: 'sms' as const, kind: 'followup', idempotencyKey: 'k', callId: null, customerId: null, to: '+1', body: 'x' };
    expect(initialStatus(sandboxClient, input, new Date())).toEqual({ status: 'sandbox', sendAfter: null });
    expect(initialStatus(liveClient, { ...input, optedOut: true }, new Date())).toEqual({ status: 'suppressed', sendAfter: null });
    const quiet = { ...liveClient, config: { ...liveClient.config, sms: { ...liveClient.config.sms!, quiet_hours: { start: '21:00', end: '08:00' } } } } as ServableClient;
    const night = initialStatus(quiet, input, new Date('2026-06-02T03:00:00Z')); // 23:00 in New York
    expect(night.status).toBe('held');
    expect(night.sendAfter?.toISOString()).toBe('2026-06-02T12:00:00.000Z');
    expect(initialStatus(quiet, { ...input, channel: 'email' }, new Date('2026-06-02T03:00:00Z')).status).toBe('pending');
  });

  it('sends once: a second run of the same job does nothing', async () => {
    const { message } = await queue(liveClient);
    const before = twilio.messages.length;
    expect(await sendMessage(t.deps, liveClient, message.id)).toBe('sent');
    expect(await sendMessage(t.deps, liveClient, message.id)).toBe('skipped');
    expect(twilio.messages.length - before).toBe(1);
    const sent = await row(live, message.id);
    expect(sent).toMatchObject({ status: 'sent', attempts: 1, segments: 1 });
    expect(sent.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it('the same idempotency key never creates a second message', async () => {
    const key = `test:${uniqueId('same')}`;
    const first = await queue(liveClient, { idempotencyKey: key });
    const second = await queue(liveClient, { idempotencyKey: key, body: 'different' });
    expect(second.created).toBe(false);
    expect(second.message.id).toBe(first.message.id);
  });

  it('an ambiguous failure (500) is reconciled through Twilio: found means sent, not found means resend', async () => {
    // A 500 that Twilio did act on: the fake stores nothing for `error`, so nothing is found, and the
    // message goes back to pending for a later attempt — which sends it exactly once.
    const { message } = await queue(liveClient, { body: `Ambiguous ${uniqueId('a')}` });
    twilio.failNext('error', 1);
    await expect(sendMessage(t.deps, liveClient, message.id)).rejects.toThrow();
    expect((await row(live, message.id)).status).toBe('pending');
    expect(await sendMessage(t.deps, liveClient, message.id)).toBe('sent');
    expect(twilio.messages.filter((m) => m.body === message.body)).toHaveLength(1);

    // An attempt that died mid-send (row left "sending") after Twilio accepted it: reconciled as sent.
    const { message: crashed } = await queue(liveClient, { body: `Crashed ${uniqueId('c')}` });
    expect(await sendMessage(t.deps, liveClient, crashed.id)).toBe('sent');
    await t.deps.tenancy.withTenant(live, (tx) => tx.update(messages).set({ status: 'sending', providerMessageId: null }).where(eq(messages.id, crashed.id)));
    expect(await sendMessage(t.deps, liveClient, crashed.id)).toBe('sent');
    expect(twilio.messages.filter((m) => m.body === crashed.body)).toHaveLength(1);
    expect((await row(live, crashed.id)).providerMessageId).toMatch(/^SM/);
  });

  it("the job's last attempt records a retryable failure as failed, not pending, and sends nothing", async () => {
    const { message } = await queue(liveClient, { body: `Down ${uniqueId('d')}` });
    twilio.failNext('down', 2);
    await expect(sendMessage(t.deps, liveClient, message.id)).rejects.toThrow();
    expect((await row(live, message.id)).status).toBe('pending');
    expect(await sendMessage(t.deps, liveClient, message.id, { final: true })).toBe('failed');
    const failed = await row(live, message.id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 2 });
    expect(failed.errorMessage).toMatch(/^gave up after 2 attempts: /);
    expect(await sendMessage(t.deps, liveClient, message.id)).toBe('skipped');
    expect(twilio.messages.filter((m) => m.body === message.body)).toHaveLength(0);
  });

  it('credentials the provider refuses (401) mark the SMS integration broken for the operator; the next success clears it', async () => {
    const wrongToken = { ...liveClient, config: { ...liveClient.config, sms: { ...liveClient.config.sms!, auth_token: 'not-the-token' } } } as ServableClient;
    const { message } = await queue(liveClient, { body: `Refused ${uniqueId('r')}` });
    expect(await sendMessage(t.deps, wrongToken, message.id)).toBe('failed');
    expect(await row(live, message.id)).toMatchObject({ status: 'failed', errorCode: '20003' });
    const broken = await readIntegrationHealth(t.deps.tenancy, live, 'sms');
    expect(broken).toMatchObject({ status: 'integration_error', provider: 'twilio' });
    expect(broken?.detail).toMatch(/twilio rejected the sms credentials/);
    expect(broken?.detail).not.toContain('not-the-token');

    const { message: next } = await queue(liveClient, { body: `Fixed ${uniqueId('f')}` });
    expect(await sendMessage(t.deps, liveClient, next.id)).toBe('sent');
    expect(await readIntegrationHealth(t.deps.tenancy, live, 'sms')).toMatchObject({ status: 'ok', provider: 'twilio', detail: null });
  });

  it('a timeout after sending to a provider without a lookup is marked unknown, never resent', async () => {
    const text180Client = {
      ...liveClient,
      config: { ...liveClient.config, sms: { provider: 'text180', enabled: true, auth_key: 'k', account_id: '1', short_code: '55512', keyword: 'K', default_country: 'US', quiet_hours: { start: '00:00', end: '00:00' }, api_base_url: twilio.url } },
    } as unknown as ServableClient;
    const { message } = await queue(text180Client);
    // Pretend an attempt died mid-send: the row is "sending".
    await t.deps.tenancy.withTenant(live, (tx) => tx.update(messages).set({ status: 'sending' }).where(eq(messages.id, message.id)));
    expect(await sendMessage(t.deps, text180Client, message.id)).toBe('unknown');
    expect(await row(live, message.id)).toMatchObject({ status: 'unknown', errorCode: 'ambiguous' });
  });

  it('a recipient who replied STOP (21610) is marked opted out; later texts are suppressed', async () => {
    const phone = '+15005550004'; // Twilio's "blocked / STOP" magic number
    const customerId = await t.deps.tenancy.withTenant(live, async (tx) => {
      const [c] = await tx.insert(customers).values({ clientId: live, phone }).returning({ id: customers.id });
      return c!.id;
    });
    const { message } = await queue(liveClient, { to: phone, customerId });
    expect(await sendMessage(t.deps, liveClient, message.id)).toBe('suppressed');
    const [customer] = await t.deps.tenancy.withTenant(live, (tx) => tx.select().from(customers).where(eq(customers.id, customerId)));
    expect(customer?.optedOutAt).toBeInstanceOf(Date);
  });

  it('Twilio status callbacks are verified and move delivery status forward only', async () => {
    const { message } = await queue(liveClient, { body: `Delivery ${uniqueId('d')}` });
    await sendMessage(t.deps, liveClient, message.id);
    const sms = await row(live, message.id);
    const url = `${t.deps.config.publicBaseUrl}/api/webhooks/twilio/${live}/status`;
    // Signed the way Twilio signs: over the public URL it called and the sorted form fields.
    const post = (params: Record<string, string>, authToken = token) =>
      t.app.inject({
        method: 'POST',
        url: `/api/webhooks/twilio/${live}/status`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(authToken, url, params) },
        payload: new URLSearchParams(params).toString(),
      });
    const delivered = await post({ MessageSid: sms.providerMessageId!, MessageStatus: 'delivered', AccountSid: sid });
    expect(delivered.statusCode).toBe(204);
    expect((await row(live, message.id)).status).toBe('delivered');
    // A late "sent" never undoes "delivered".
    await post({ MessageSid: sms.providerMessageId!, MessageStatus: 'sent', AccountSid: sid });
    expect((await row(live, message.id)).status).toBe('delivered');
    // Forged with another token: 401, nothing changes.
    const forged = await post({ MessageSid: sms.providerMessageId!, MessageStatus: 'failed', AccountSid: sid }, 'not-the-token');
    expect(forged.statusCode).toBe(401);
    expect((await row(live, message.id)).status).toBe('delivered');
  });

  it('an inbound STOP opts the number out; START opts it back in', async () => {
    const url = `${t.deps.config.publicBaseUrl}/api/webhooks/twilio/${live}/inbound`;
    const inbound = (body: string) => {
      const params = { From: '+14155550199', To: '+15005550006', Body: body, AccountSid: sid, MessageSid: `SM${'9'.repeat(32)}` };
      return t.app.inject({
        method: 'POST',
        url: `/api/webhooks/twilio/${live}/inbound`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(token, url, params) },
        payload: new URLSearchParams(params).toString(),
      });
    };
    const stop = await inbound('Stop ');
    expect(stop.statusCode).toBe(200);
    expect(stop.headers['content-type']).toContain('text/xml');
    const optedOut = async () =>
      (await sqlRows<{ opted_out_at: Date | null }>(t.deps.database.db, sql`select opted_out_at from customers where client_id = ${live} and phone = '+14155550199'`))[0]?.opted_out_at;
    expect(await optedOut()).toBeTruthy();
    const { message } = await t.deps.tenancy.withTenant(live, async (tx) => {
      const [c] = await tx.select().from(customers).where(and(eq(customers.clientId, live), eq(customers.phone, '+14155550199')));
      return queueMessage(tx, liveClient, { channel: 'sms', kind: 'followup', idempotencyKey: `test:${uniqueId('s')}`, callId: null, customerId: c!.id, to: '+14155550199', body: 'x', optedOut: Boolean(c!.optedOutAt) }, t.deps);
    });
    expect(message.status).toBe('suppressed');
    await inbound('START');
    expect(await optedOut()).toBeNull();
  });
});
