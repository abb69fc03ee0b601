/**
 * Health detectors end to end with a controllable clock: for each detector the problem is caused
 * the way it happens in production (forged webhooks, a refused credential, suppressed texts, a
 * job that gave up, calls at the cap, a broken client file, silence), and the incident opens once,
 * notifies once (platform email in SendGrid's sandbox, the platform's and the client's Slack
 * webhooks on a local fake), reminds once per reminder time, is not reopened by a flap, resolves
 * once the problem has stayed away, and notifies recovery once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServableClient } from '../clients/client.schema.ts';
import { startWorkers } from '../core/dispatch.ts';
import { JOB_CATALOGUE } from '../core/router.ts';
import { integrationHealthFor } from '../integrations/integration-health.ts';
import { queueMessage } from '../messages/messages.service.ts';
import { createOutboundWebhooksService } from '../outbound-webhooks/outbound-webhooks.service.ts';
import { attemptDelivery, fanOutEvent, RETRY_WINDOW_MS, type DeliveryContext } from '../outbound-webhooks/webhook-delivery.ts';
import { ProviderError } from '../platform/provider-http.ts';
import { startSendgridFake, type SendgridFake } from '../../test/fakes/sendgrid-fake.ts';
import { startSlackFake, type SlackFake } from '../../test/fakes/slack-fake.ts';
import { startTwilioFake, type TwilioFake } from '../../test/fakes/twilio-fake.ts';
import { until } from '../../test/helpers/inject-fetch.ts';
import { noQueue, outboxWithoutSubscribers } from '../../test/helpers/outbox.ts';
import { agentFor, callEvent, postSigned, retellKeyFor } from '../../test/helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import { dropSchema } from '../../test/helpers/test-db.ts';
import { acknowledgeAlert, evaluateClient, listClientAlerts, type AlertDeps } from './alerts.service.ts';
import { DETECTORS, type AlertKind } from './detectors.ts';

const MIN = 60_000;
const CLI = { userId: null, requestId: null };
const ALWAYS_OPEN = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]));
const twilioSid = `AC${'7'.repeat(32)}`;
const twilioToken = 'twilio-token-alerts-000777';
const platformMailKey = 'SG.platform-alerts-key-0123456789';

describe('health detectors: open once, notify once, remind, resolve, notify recovery', () => {
  let t: TestApp;
  let slack: SlackFake;
  let sendgrid: SendgridFake;
  let twilio: TwilioFake;
  let clock = new Date();
  const queueSchema = `pgboss_${uniqueId('al').replaceAll('-', '_')}`;
  const ids = Object.fromEntries(DETECTORS.map((d) => [d.kind, uniqueId(`al-${d.kind.slice(0, 6).replaceAll('_', '')}`)])) as Record<AlertKind, string>;
  let dir: string;

  const envName = (prefix: string, id: string) => `${prefix}_${id.replaceAll('-', '_').toUpperCase()}`;
  // Live clients (a test-environment client's texts are sandboxed, never sent): secrets by env reference.
  const clientFile = (kind: AlertKind) => ({
    ...testClientConfig(ids[kind]),
    environment: 'live',
    business_hours: ALWAYS_OPEN,
    retell: { api_key: `env:${envName('AL_RETELL', ids[kind])}`, agent_ids: [agentFor(ids[kind])] },
    sms: { enabled: true, provider: 'twilio', account_sid: twilioSid, auth_token: 'env:AL_TWILIO_TOKEN', from_number: '+15005550006', api_base_url: twilio.url, quiet_hours: { start: '00:00', end: '00:00' } },
    limits: { max_concurrent_calls: 1 },
    alerts: { no_events_minutes: 30, slack_webhook_url: `env:${envName('AL_SLACK', ids[kind])}` },
  });
  const clientEnv = () =>
    Object.fromEntries(Object.values(ids).flatMap((id) => [[envName('AL_RETELL', id), retellKeyFor(id)], [envName('AL_SLACK', id), slack.hook(`client-${id}`)]]));
  /** Messages are queued here without their send job (the test enqueues the one it wants). */
  const noSendJob = { enqueue: async () => null };

  const alertDeps = (): AlertDeps => ({ tenancy: t.deps.tenancy, queue: t.deps.queue, health: t.deps.health, logger: t.deps.logger, policy: t.deps.alerting.policy });
  const detector = (kind: AlertKind) => DETECTORS.filter((d) => d.kind === kind);
  const evaluate = async (kind: AlertKind, at: Date) => {
    clock = at;
    const changes = await evaluateClient(alertDeps(), t.deps.registry.get(ids[kind])!, at, detector(kind));
    return changes.map((c) => c.change);
  };
  const rows = (kind: AlertKind) => listClientAlerts(t.deps.tenancy, ids[kind], 'all', 10);
  /** No alert job of this client left to run: every notice it was due has been sent. */
  const settled = async (kind: AlertKind) => {
    await until(
      async () => (await t.deps.queue.depth()).every((row) => row.client_id !== ids[kind] || !['alert.notice', 'subscriber.alerts'].includes(row.queue)),
      20_000,
      `${kind}: alert jobs done`,
    );
  };
  const notices = (kind: AlertKind) => {
    const id = ids[kind];
    const head = (text: string) => text.split(' ')[0] ?? '';
    return {
      platform: slack.messages.filter((m) => m.path === '/services/platform' && m.text.includes(`(${id})`)).map((m) => head(m.text)),
      client: slack.messages.filter((m) => m.path === `/services/client-${id}`).map((m) => head(m.text)),
      email: sendgrid.mails.filter((m) => JSON.stringify(m.body).includes(`(${id})`)).map((m) => (m.body.subject as string).split(' ')[1] ?? ''),
    };
  };

  beforeAll(async () => {
    slack = await startSlackFake({ hooks: ['platform', ...Object.values(ids).map((id) => `client-${id}`)] });
    sendgrid = await startSendgridFake({ apiKeys: [platformMailKey] });
    twilio = await startTwilioFake({ accounts: { [twilioSid]: twilioToken } });
    dir = tempDir('clients-');
    for (const d of DETECTORS) writeClientFile(dir, clientFile(d.kind));
    t = await createTestApp({
      clientsDir: dir,
      queueSchema,
      env: {
        ALERT_EMAIL_TO: 'ops@xlnc.test',
        PLATFORM_SENDGRID_API_KEY: platformMailKey,
        PLATFORM_SENDGRID_BASE_URL: sendgrid.url,
        ALERT_SLACK_WEBHOOK_URL: slack.hook('platform'),
        ALERT_REMINDER_MINUTES: '5',
        AL_TWILIO_TOKEN: twilioToken,
        ...clientEnv(),
      },
      alerts: { alertClock: () => clock, alertAddressAllowed: (ip) => ip === '127.0.0.1', alertCa: slack.ca },
    });
    await startWorkers(t.deps, JOB_CATALOGUE, { concurrency: 4, perClientConcurrency: 2, pollingIntervalSeconds: 0.5 });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await dropSchema(queueSchema);
    await Promise.all([slack?.close(), sendgrid?.close(), twilio?.close()]);
  });

  /**
   * One incident's life. `cause` makes the problem (at `start`); `fix` makes it go away and says
   * when, on the test's clock, it is gone. Event-driven detectors open and start clearing from
   * their domain events (the alerts subscriber), the others from the scheduled evaluation.
   */
  async function lifecycle(
    kind: AlertKind,
    options: { cause(start: Date): Promise<void>; fix(start: Date): Promise<Date>; onEvent?: boolean; clearedOnSchedule?: true; clientHookWhileBroken?: false },
  ) {
    // While a client's file is invalid its own webhook cannot be read: only the platform's channels hear it.
    const clientSees = (expected: string[]) => (options.clientHookWhileBroken === false ? expected.filter((h) => h === 'RESOLVED') : expected);
    // A little ahead of the wall clock: what the cause writes now lies before the evaluations.
    const start = new Date(Date.now() + 30_000);
    clock = start;
    await options.cause(start);
    if (options.onEvent) {
      await until(async () => (await rows(kind)).length === 1, 20_000, `${kind}: opened by its domain event`);
      expect(await evaluate(kind, new Date(start.getTime() + MIN))).toEqual(['updated']);
    } else {
      expect(await evaluate(kind, start)).toEqual(['opened']);
      expect(await evaluate(kind, new Date(start.getTime() + MIN))).toEqual(['updated']);
    }
    await settled(kind);
    const severity = (await rows(kind))[0]!.severity.toUpperCase();
    expect(notices(kind)).toEqual({ platform: [severity], client: clientSees([severity]), email: [severity] });

    // Still open after the reminder time: one reminder, and not another before the next one is due.
    expect(await evaluate(kind, new Date(start.getTime() + 6 * MIN))).toEqual(['reminded']);
    expect(await evaluate(kind, new Date(start.getTime() + 7 * MIN))).toEqual(['updated']);
    await settled(kind);
    expect(notices(kind).platform).toEqual([severity, 'REMINDER']);
    expect(notices(kind).client).toEqual(clientSees(notices(kind).platform));
    expect(notices(kind).email).toEqual(notices(kind).platform);

    const gone = await options.fix(start);
    if (options.onEvent && !options.clearedOnSchedule) {
      await until(async () => (await rows(kind))[0]?.clearSince !== null, 20_000, `${kind}: clearing after its recovery event`);
    } else {
      expect(await evaluate(kind, gone)).toEqual(['clearing']);
    }
    const clearing = (await rows(kind))[0]!.clearSince!;
    // Flap damping: resolved only once clear for 10 minutes (not at 9), one incident throughout.
    expect(await evaluate(kind, new Date(clearing.getTime() + 9 * MIN))).toEqual(['clearing']);
    expect(await evaluate(kind, new Date(clearing.getTime() + 10 * MIN))).toEqual(['resolved']);
    expect(await evaluate(kind, new Date(clearing.getTime() + 11 * MIN))).toEqual([]);
    await settled(kind);
    const all = await rows(kind);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ kind, state: 'resolved', resolvedBy: 'detector', reminders: 1 });
    expect(notices(kind).platform).toEqual([severity, 'REMINDER', 'RESOLVED']);
    expect(notices(kind).client).toEqual(clientSees(notices(kind).platform));
    expect(notices(kind).email).toEqual(notices(kind).platform);
    // The platform's mail went in SendGrid's sandbox mode (NODE_ENV=test), to the operator.
    const mail = sendgrid.mails.find((m) => JSON.stringify(m.body).includes(`(${ids[kind]})`));
    expect(mail).toMatchObject({ apiKey: platformMailKey, sandbox: true });
    expect(JSON.stringify(mail?.body)).toContain('ops@xlnc.test');
  }

  it('signature_failures: a rotated Retell key (5 forged webhooks in 15 minutes)', async () => {
    const id = ids.signature_failures;
    await lifecycle('signature_failures', {
      async cause() {
        for (let i = 0; i < 5; i += 1) {
          const res = await postSigned(t.app, id, callEvent(id, 'call_started', `call_sig_${i}`), { key: 'key_rotated_in_retell_000' });
          expect(res.statusCode).toBe(401);
        }
      },
      // The failures age out of the 15-minute window.
      fix: async (start) => new Date(start.getTime() + 30 * MIN),
    });
  });

  it('provider_credentials: Twilio refuses the credentials (20003), then accepts them', async () => {
    const id = ids.provider_credentials;
    const health = integrationHealthFor(t.deps, id, 'sms');
    await lifecycle('provider_credentials', {
      onEvent: true,
      async cause() {
        await health.failed('twilio', new ProviderError({ provider: 'twilio', operation: 'send_sms', retryable: false, status: 401, code: '20003', message: 'Authenticate' }), 'update the SMS settings of this client.');
      },
      async fix(start) {
        clock = new Date(start.getTime() + 20 * MIN);
        await health.ok('twilio');
        return clock;
      },
    });
  });

  it('messages_failing: five texts suppressed in an hour (against none before)', async () => {
    const id = ids.messages_failing;
    const client = t.deps.registry.get(id) as ServableClient;
    await lifecycle('messages_failing', {
      onEvent: true,
      async cause() {
        for (let i = 0; i < 5; i += 1) {
          await t.deps.tenancy.withTenant(id, (tx) =>
            queueMessage(tx, client, { channel: 'sms', kind: 'followup', idempotencyKey: `sup-${i}`, callId: null, customerId: null, to: '+14155550142', body: 'Thanks', optedOut: true }, { queue: noQueue, events: t.deps.events }),
          );
        }
      },
      // The hour passes with nothing more failing; the next scheduled evaluation sees it clear.
      async fix(start) {
        const gone = new Date(start.getTime() + 70 * MIN);
        expect(await evaluate('messages_failing', gone)).toEqual(['clearing']);
        return gone;
      },
    });
  });

  it('concurrency_cap: a call arrives while the only allowed call is active', async () => {
    const id = ids.concurrency_cap;
    await lifecycle('concurrency_cap', {
      async cause() {
        expect((await postSigned(t.app, id, callEvent(id, 'call_started', 'call_cap_1', { start_timestamp: Date.now() }))).statusCode).toBe(204);
        const res = await postSigned(t.app, id, { event: 'call_inbound', event_timestamp: Date.now(), call_inbound: { agent_id: agentFor(id), from_number: '+14155550143', to_number: '+14155550100' } });
        expect(res.statusCode).toBe(200);
        expect(res.json().call_inbound.metadata).toMatchObject({ over_capacity: true });
      },
      // An hour without another.
      fix: async (start) => new Date(start.getTime() + 70 * MIN),
    });
  });

  it('no_events: no call for 30 minutes of business hours, then a call', async () => {
    const id = ids.no_events;
    await lifecycle('no_events', {
      async cause(start) {
        const res = await postSigned(t.app, id, callEvent(id, 'call_started', 'call_quiet_1', { start_timestamp: start.getTime() - 60 * MIN }));
        expect(res.statusCode).toBe(204);
      },
      async fix(start) {
        const next = new Date(start.getTime() + 10 * MIN);
        expect((await postSigned(t.app, id, callEvent(id, 'call_started', 'call_quiet_2', { start_timestamp: next.getTime() }))).statusCode).toBe(204);
        return next;
      },
    });
  });

  it('dead_jobs: a text gave up while Twilio was down; replayed once it is back', async () => {
    const id = ids.dead_jobs;
    const client = t.deps.registry.get(id) as ServableClient;
    await lifecycle('dead_jobs', {
      async cause() {
        twilio.mode = 'down';
        const { message } = await t.deps.tenancy.withTenant(id, (tx) =>
          queueMessage(tx, client, { channel: 'sms', kind: 'followup', idempotencyKey: 'dead-1', callId: null, customerId: null, to: '+14155550142', body: 'Thanks for calling' }, { queue: noSendJob, events: t.deps.events }),
        );
        // One attempt only (the queue's own policy retries for minutes): it gives up at once.
        await t.deps.queue.boss.send('message.send', { client_id: id, message_id: message.id }, { retryLimit: 0, group: { id } });
        await until(async () => (await t.deps.queue.deadLetters({ clientId: id })).length === 1, 20_000, 'the job dead-lettered');
      },
      async fix(start) {
        twilio.mode = 'normal';
        expect(await t.deps.queue.retryDeadLetters({ all: true, clientId: id })).toBe(1);
        await until(async () => twilio.messages.some((m) => m.body === 'Thanks for calling'), 20_000, 'the replayed text sent');
        return new Date(start.getTime() + 20 * MIN);
      },
    });
  });

  it('config_invalid: the client file stops validating, then is fixed', async () => {
    const id = ids.config_invalid;
    const file = join(dir, `${id}.json`);
    await lifecycle('config_invalid', {
      onEvent: true,
      clientHookWhileBroken: false,
      async cause() {
        writeFileSync(file, JSON.stringify({ ...clientFile('config_invalid'), timezone: 'Mars/Olympus_Mons' }));
        await until(async () => t.deps.registry.get(id)?.status === 'invalid', 10_000, 'the registry sees the broken file');
      },
      async fix(start) {
        clock = new Date(start.getTime() + 20 * MIN);
        writeFileSync(file, JSON.stringify(clientFile('config_invalid')));
        await until(async () => t.deps.registry.get(id)?.status === 'active', 10_000, 'the registry sees the fix');
        return clock;
      },
    });
  });

  /** A subscription of the webhook_disabled client and the 24 h of failed deliveries that switch it off (the real delivery code, its clock and receiver simulated). */
  const webhooks = () =>
    createOutboundWebhooksService({ tenancy: t.deps.tenancy, sealer: t.deps.sealer, outbound: { urlProblem: () => null }, queue: { enqueue: async () => null }, clock: () => clock });
  async function failingDeliveries(subscriptionId: string, from: Date, hours: number): Promise<string[]> {
    const id = ids.webhook_disabled;
    let now = from.getTime();
    const ctx: DeliveryContext = {
      tenancy: t.deps.tenancy,
      // The real outbox: webhook_subscription.disabled reaches the alerts subscriber.
      events: t.deps.events,
      sealer: t.deps.sealer,
      logger: t.deps.logger,
      clock: () => new Date(now),
      outbound: { urlProblem: () => null, request: async () => ({ ok: true, status: 503, headers: {}, body: Buffer.alloc(0) }) },
      queue: { enqueue: async () => null },
    };
    const event = await t.deps.tenancy.withTenant(id, (tx) =>
      outboxWithoutSubscribers().emit(tx, id, 'call.started', { call_id: uniqueId('call'), agent_id: null, direction: 'inbound', from_number: null, to_number: null, started_at: null }, { key: uniqueId('ev'), occurredAt: new Date(now) }),
    );
    expect(await fanOutEvent(t.deps.registry.get(id) as ServableClient, event!, ctx)).toBeGreaterThan(0);
    const delivery = (await webhooks().deliveries(id, { subscription_id: subscriptionId, limit: 1 })).items[0]!;
    const outcomes = [await attemptDelivery(id, delivery.id, ctx)];
    now += hours * 60 * MIN;
    outcomes.push(await attemptDelivery(id, delivery.id, ctx));
    return outcomes;
  }

  it('webhook_disabled: every delivery to a subscription failed for 24 h (switched off), then it is re-enabled', async () => {
    const id = ids.webhook_disabled;
    let subscriptionId = '';
    await lifecycle('webhook_disabled', {
      onEvent: true,
      clearedOnSchedule: true,
      async cause(start) {
        subscriptionId = (await webhooks().create(id, { url: 'https://crm.example.com/hooks/xlnc?token=client-own-token', event_types: ['call.started'] }, CLI)).id;
        expect(await failingDeliveries(subscriptionId, new Date(start.getTime() - RETRY_WINDOW_MS - 60 * MIN), 24)).toEqual(['retrying', 'dead']);
        expect(await webhooks().get(id, subscriptionId)).toMatchObject({ status: 'disabled', failing_since: expect.any(String) });
      },
      async fix(start) {
        clock = new Date(start.getTime() + 20 * MIN);
        expect((await webhooks().update(id, subscriptionId, { status: 'active' }, CLI)).status).toBe('active');
        return clock;
      },
    });
    const [incident] = await rows('webhook_disabled');
    expect(incident?.summary).toContain('crm.example.com');
    // The URL's path and query (the client's own token) stay out of the alert and its notices.
    expect(JSON.stringify([incident, slack.messages, sendgrid.mails])).not.toContain('client-own-token');
  });

  it('webhook_disabled: a deleted subscription resolves it; a subscription a user disabled raises nothing', async () => {
    const id = ids.webhook_disabled;
    const start = new Date(Date.now() + 30_000);
    clock = start;
    // A user switches off a subscription whose deliveries were failing: their choice, no alert.
    const byUser = (await webhooks().create(id, { url: 'https://old.example.com/h', event_types: ['call.started'] }, CLI)).id;
    expect(await failingDeliveries(byUser, new Date(start.getTime() - 2 * 60 * MIN), 1)).toEqual(['retrying', 'retrying']);
    await webhooks().update(id, byUser, { status: 'disabled' }, CLI);
    expect(await evaluate('webhook_disabled', start)).toEqual([]);

    const broken = (await webhooks().create(id, { url: 'https://gone.example.com/h', event_types: ['call.started'] }, CLI)).id;
    expect(await failingDeliveries(broken, new Date(start.getTime() - RETRY_WINDOW_MS - 60 * MIN), 24)).toEqual(['retrying', 'dead']);
    await until(async () => (await rows('webhook_disabled')).some((r) => r.state === 'open'), 20_000, 'opened by webhook_subscription.disabled');
    await settled('webhook_disabled');
    const before = notices('webhook_disabled').platform.length;
    await webhooks().remove(id, broken, CLI);
    expect(await evaluate('webhook_disabled', new Date(start.getTime() + MIN))).toEqual(['clearing']);
    expect(await evaluate('webhook_disabled', new Date(start.getTime() + 11 * MIN))).toEqual(['resolved']);
    await settled('webhook_disabled');
    expect(notices('webhook_disabled').platform.slice(before - 1)).toEqual(['CRITICAL', 'RESOLVED']);
    expect((await rows('webhook_disabled')).filter((r) => r.state !== 'resolved')).toEqual([]);
  });

  it('a flap (the problem back before it cleared for long enough) keeps the same incident and sends nothing', async () => {
    const id = ids.signature_failures;
    const before = slack.messages.length;
    const start = new Date(Math.floor(Date.now() / MIN) * MIN);
    const forge = async () => {
      for (let i = 0; i < 5; i += 1) await postSigned(t.app, id, callEvent(id, 'call_started', `call_flap_${i}`), { key: 'key_rotated_in_retell_000' });
    };
    await forge();
    expect(await evaluate('signature_failures', start)).toEqual(['opened']);
    await settled('signature_failures');
    // Acknowledged: no reminders from here on, whatever happens.
    const opened = (await rows('signature_failures')).find((r) => r.state === 'open')!;
    await acknowledgeAlert(t.deps.tenancy, id, opened.id, 'user-ops');
    // Gone (the failures aged out), then back within the damping time: the same incident.
    expect(await evaluate('signature_failures', new Date(start.getTime() + 20 * MIN))).toEqual(['clearing']);
    await t.deps.health.hit(id, 'signature_failure', new Date(start.getTime() + 24 * MIN));
    for (let i = 0; i < 4; i += 1) await t.deps.health.hit(id, 'signature_failure', new Date(start.getTime() + 24 * MIN));
    expect(await evaluate('signature_failures', new Date(start.getTime() + 25 * MIN))).toEqual(['updated']);
    await settled('signature_failures');
    expect(slack.messages.length - before).toBe(2); // the opened notice on the platform's and the client's webhook, nothing for the flap
    const active = (await rows('signature_failures')).filter((r) => r.state !== 'resolved');
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({ id: opened.id, state: 'acknowledged', acknowledgedBy: 'user-ops', reminders: 0 });
    expect(active[0]?.clearSince).toBeNull();
  });

});
