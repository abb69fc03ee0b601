/**
 * Outbound webhooks end to end: a booked call, every Retell webhook delivered three times, reaches
 * the client's HTTPS receiver as one Standard Webhooks delivery per domain event (verified with the
 * official `standardwebhooks` package), through the real subscriber, delivery jobs and SSRF-guarded
 * HTTP. One client's hanging endpoint does not hold another client's deliveries.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORK_OPTIONS, startWorkers } from '../../src/core/dispatch.ts';
import { JOB_CATALOGUE } from '../../src/core/router.ts';
import { createOutboundWebhooksService } from '../../src/outbound-webhooks/outbound-webhooks.service.ts';
import { simulateCall } from '../../src/webhooks/retell/call-simulator.ts';
import { startTwilioFake, type TwilioFake } from '../fakes/twilio-fake.ts';
import { selfSignedCertificate, startHttpsReceiver, type HttpsReceiver } from '../helpers/https-receiver.ts';
import { injectFetch, until } from '../helpers/inject-fetch.ts';
import { agentFor } from '../helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../helpers/test-app.ts';
import { dropSchema } from '../helpers/test-db.ts';

const ALWAYS_OPEN = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]));
const CLI = { userId: null, requestId: null };
const twilioSid = `AC${'6'.repeat(32)}`;
const twilioToken = 'twilio-token-outbound-000666';
const envName = (id: string) => `OW_RETELL_${id.replaceAll('-', '_').toUpperCase()}`;
const retellKey = (id: string) => `key_live_${id.replaceAll('-', '_')}_outbound`;

function liveClientFile(id: string, twilioUrl: string) {
  return {
    ...testClientConfig(id),
    environment: 'live',
    business_hours: ALWAYS_OPEN,
    retell: { api_key: `env:${envName(id)}`, agent_ids: [agentFor(id)] },
    calendar: { provider: 'internal', min_notice_minutes: 0 },
    sms: { enabled: true, provider: 'twilio', account_sid: twilioSid, auth_token: 'env:OW_TWILIO_TOKEN', from_number: '+15005550006', api_base_url: twilioUrl, quiet_hours: { start: '00:00', end: '00:00' } },
  };
}

const tls = selfSignedCertificate();

describe.skipIf(!tls)('outbound webhooks, end to end (skipped: needs the openssl CLI)', () => {
  let t: TestApp;
  let twilio: TwilioFake;
  let receiver: HttpsReceiver;
  const a = uniqueId('ow-a');
  const slow = uniqueId('ow-slow');
  const queueSchema = `pgboss_${uniqueId('ow').replaceAll('-', '_')}`;
  let release: () => void = () => {};
  const held = new Promise<number>((resolve) => {
    release = () => resolve(204);
  });

  beforeAll(async () => {
    twilio = await startTwilioFake({ accounts: { [twilioSid]: twilioToken } });
    receiver = await startHttpsReceiver(tls!);
    // The slow client's endpoint answers nothing until the test releases it.
    receiver.respond = (request) => (request.path.startsWith('/slow') ? held : 204);
    const dir = tempDir('clients-');
    writeClientFile(dir, liveClientFile(a, twilio.url));
    writeClientFile(dir, liveClientFile(slow, twilio.url));
    t = await createTestApp({
      clientsDir: dir,
      env: { OW_TWILIO_TOKEN: twilioToken, [envName(a)]: retellKey(a), [envName(slow)]: retellKey(slow) },
      queueSchema,
      outbound: { allowAddress: (ip) => ip === '127.0.0.1', ca: tls!.cert },
    });
    await startWorkers(t.deps, JOB_CATALOGUE, DEFAULT_WORK_OPTIONS);
  });
  afterAll(async () => {
    release();
    await t.close();
    await dropSchema(queueSchema);
    await receiver.close();
    await twilio.close();
  });

  const service = () => createOutboundWebhooksService({ tenancy: t.deps.tenancy, sealer: t.deps.sealer, outbound: t.deps.outbound, queue: t.deps.queue });

  it('a booked call with every Retell webhook delivered 3x: one verified delivery per event; a hanging endpoint of another client holds nothing of this one', async () => {
    const types = ['call.started', 'appointment.booked', 'call.completed'];
    const subA = await service().create(a, { url: `${receiver.origin}/a`, event_types: types }, CLI);
    await service().create(slow, { url: `${receiver.origin}/slow`, event_types: ['call.started', 'appointment.booked', 'call.completed', 'message.sent'] }, CLI);

    // The slow client's calls first: its deliveries take its worker slots and hang.
    for (let i = 0; i < 3; i++) {
      await simulateCall({ baseUrl: 'http://app', clientId: slow, apiKey: retellKey(slow), agentId: agentFor(slow), scenario: 'booked', fetch: injectFetch(t, 1) });
    }
    await until(async () => receiver.received.filter((r) => r.path === '/slow').length >= 2, 30_000, 'the slow endpoint holding requests');

    const steps = await simulateCall({ baseUrl: 'http://app', clientId: a, apiKey: retellKey(a), agentId: agentFor(a), scenario: 'booked', fetch: injectFetch(t, 3) });
    expect(steps.filter((s) => s.status >= 400)).toEqual([]);
    const toA = () => receiver.received.filter((r) => r.path === '/a');
    await until(async () => new Set(toA().map((r) => (JSON.parse(r.body) as { type: string }).type)).size === 3, 30_000, "client A's three events");
    // Nothing more is on its way for A: every delivery row is finished.
    await until(async () => (await service().deliveries(a, { limit: 50 })).items.every((d) => d.status === 'succeeded'), 10_000, 'A deliveries settled');

    const delivered = toA();
    expect(delivered.map((r) => (JSON.parse(r.body) as { type: string }).type).sort()).toEqual([...types].sort());
    expect(new Set(delivered.map((r) => r.headers['webhook-id'])).size).toBe(3);
    const verifier = new Webhook(subA.secret);
    for (const request of delivered) {
      const verified = verifier.verify(request.body, request.headers) as { type: string; client_id: string; data: Record<string, unknown> };
      expect(verified.client_id).toBe(a);
      expect(request.headers['user-agent']).toMatch(/xlnc/);
    }
    const log = await service().deliveries(a, { limit: 50 });
    expect(log.items).toHaveLength(3);
    expect(log.items.every((d) => d.attempts === 1 && d.last_status_code === 204 && d.last_latency_ms !== null)).toBe(true);
    // The slow client is still held at its cap, none of its requests answered yet.
    expect((await service().deliveries(slow, { limit: 50 })).items.filter((d) => d.status === 'succeeded')).toHaveLength(0);
    release();
  });
});
