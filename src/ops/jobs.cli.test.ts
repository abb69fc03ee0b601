/**
 * Failed jobs from the command line: a text whose job gave up while Twilio was down is listed
 * (what, whose, attempts, the last error scrubbed), replayed with `xlnc jobs retry <id>` once
 * Twilio is back and sent exactly once; replaying it again (by id, with --all, or a stray copy of
 * the job) sends nothing more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServableClient } from '../clients/client.schema.ts';
import { startWorkers } from '../core/dispatch.ts';
import { JOB_CATALOGUE } from '../core/router.ts';
import { queueMessage } from '../messages/messages.service.ts';
import { findMessage } from '../messages/messages.repo.ts';
import { createSecretScrubber } from '../platform/logging.ts';
import { startTwilioFake, type TwilioFake } from '../../test/fakes/twilio-fake.ts';
import { until } from '../../test/helpers/inject-fetch.ts';
import { agentFor } from '../../test/helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import { dropSchema } from '../../test/helpers/test-db.ts';
import { describeFailedJob, scrubErrorText } from './failed-jobs.service.ts';
import { jobsFailed, jobsRetry } from './jobs.cli.ts';

const twilioSid = `AC${'8'.repeat(32)}`;
const twilioToken = 'twilio-token-jobs-cli-000888';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), env: {}, encryptionKeys: [] }, out, err };
}

describe('xlnc jobs failed / retry: a replayed message job sends once', () => {
  let t: TestApp;
  let twilio: TwilioFake;
  const id = uniqueId('jobs');
  const other = uniqueId('jobs-b');
  const queueSchema = `pgboss_${uniqueId('jc').replaceAll('-', '_')}`;
  const noSendJob = { enqueue: async () => null };
  const clientFile = (clientId: string) => ({
    ...testClientConfig(clientId),
    environment: 'live',
    retell: { api_key: `env:JC_RETELL_${clientId.replaceAll('-', '_').toUpperCase()}`, agent_ids: [agentFor(clientId)] },
    sms: { enabled: true, provider: 'twilio', account_sid: twilioSid, auth_token: 'env:JC_TWILIO_TOKEN', from_number: '+15005550006', api_base_url: twilio.url, quiet_hours: { start: '00:00', end: '00:00' } },
  });

  beforeAll(async () => {
    twilio = await startTwilioFake({ accounts: { [twilioSid]: twilioToken } });
    const dir = tempDir('clients-');
    writeClientFile(dir, clientFile(id));
    writeClientFile(dir, clientFile(other));
    const env = Object.fromEntries([id, other].map((c) => [`JC_RETELL_${c.replaceAll('-', '_').toUpperCase()}`, `key_live_${c.replaceAll('-', '_')}_jobs`]));
    t = await createTestApp({ clientsDir: dir, queueSchema, env: { JC_TWILIO_TOKEN: twilioToken, ...env } });
    await startWorkers(t.deps, JOB_CATALOGUE, { concurrency: 4, perClientConcurrency: 2, pollingIntervalSeconds: 0.5 });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await dropSchema(queueSchema);
    await twilio?.close();
  });

  /** A follow-up text whose one allowed attempt fails while Twilio answers 503: it ends in the dead-letter queue. */
  async function textThatGivesUp(clientId: string, body: string) {
    const client = t.deps.registry.get(clientId) as ServableClient;
    const { message } = await t.deps.tenancy.withTenant(clientId, (tx) =>
      queueMessage(tx, client, { channel: 'sms', kind: 'followup', idempotencyKey: `jc-${body}`, callId: null, customerId: null, to: '+14155550142', body }, { queue: noSendJob, events: t.deps.events }),
    );
    await t.deps.queue.boss.send('message.send', { client_id: clientId, message_id: message.id }, { retryLimit: 0, group: { id: clientId } });
    await until(async () => (await t.deps.queue.deadLetters({ clientId })).some((job) => job.data.message_id === message.id), 20_000, 'the job dead-lettered');
    return message;
  }
  const sentWith = (body: string) => twilio.messages.filter((m) => m.body === body).length;
  const jobsDone = async () =>
    until(async () => (await t.deps.queue.depth()).every((row) => row.queue !== 'message.send'), 20_000, 'no message job left');

  it('lists it, replays it once Twilio is back (one text), and a second replay sends nothing', async () => {
    twilio.mode = 'down';
    const message = await textThatGivesUp(id, 'Thanks for calling, replay me');
    await textThatGivesUp(other, 'Another client, untouched');
    twilio.mode = 'normal';
    expect(sentWith('Thanks for calling, replay me')).toBe(0);

    const listed = capture();
    expect(await jobsFailed(['--client', id, '--json'], listed.io, { queue: t.deps.queue, scrubber: t.deps.scrubber })).toBe(0);
    const jobs = JSON.parse(listed.out.join('')) as { id: string; queue: string; client_id: string; attempts: number; last_error: string; subject: Record<string, string> }[];
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ queue: 'message.send', client_id: id, attempts: 1, subject: { message_id: message.id } });
    expect(jobs[0]?.last_error).toMatch(/twilio|503/i);
    expect(listed.out.join('')).not.toContain(twilioToken);
    const human = capture();
    expect(await jobsFailed(['--client', id], human.io, { queue: t.deps.queue })).toBe(0);
    expect(human.out.join('')).toContain('1 failed job(s) of client');

    const retried = capture();
    expect(await jobsRetry([jobs[0]!.id], retried.io, { queue: t.deps.queue })).toBe(0);
    expect(retried.out.join('')).toContain(`Retried 1 job(s): ${jobs[0]!.id}`);
    await until(async () => (await t.deps.tenancy.withTenant(id, (tx) => findMessage(tx, id, message.id)))?.status === 'sent', 20_000, 'the replayed text sent');
    expect(sentWith('Thanks for calling, replay me')).toBe(1);

    // Again: the id is no longer a failed job; --all for the client finds nothing; a stray copy of the job is skipped.
    const again = capture();
    expect(await jobsRetry([jobs[0]!.id], again.io, { queue: t.deps.queue })).toBe(1);
    expect(again.err.join('')).toContain('Not failed');
    const all = capture();
    expect(await jobsRetry(['--all', '--client', id], all.io, { queue: t.deps.queue })).toBe(0);
    expect(all.out.join('')).toContain('Retried 0 failed job(s)');
    await t.deps.queue.boss.send('message.send', { client_id: id, message_id: message.id }, { group: { id } });
    await jobsDone();
    expect(sentWith('Thanks for calling, replay me')).toBe(1);
    expect(twilio.messages.filter((m) => m.body.startsWith('Thanks for calling')).length).toBe(1);

    // The other client's failed job stays where it was, and its text unsent.
    expect((await t.deps.queue.deadLetters({ clientId: other })).length).toBe(1);
    expect(sentWith('Another client, untouched')).toBe(0);
    // Its id is not this client's: retrying it "for" this client does nothing.
    const foreign = (await t.deps.queue.deadLetters({ clientId: other }))[0]!.id;
    expect(await jobsRetry([foreign, '--client', id], capture().io, { queue: t.deps.queue })).toBe(1);
    expect((await t.deps.queue.deadLetters({ clientId: other })).length).toBe(1);
  });

  it('scrubs secrets from the last error: known values and credential-shaped text', () => {
    const scrubber = createSecretScrubber();
    scrubber.add('sk_live_client_secret_value_123');
    const text = 'POST https://user:pa55word@api.example/x failed: Authorization: Bearer eyJhbGciOi.abc.def api_key=SG.abcdefghijkl.mnopqrst token sk_live_client_secret_value_123';
    const scrubbed = scrubErrorText(text, scrubber);
    for (const secret of ['pa55word', 'eyJhbGciOi', 'SG.abcdefghijkl', 'sk_live_client_secret_value_123']) expect(scrubbed).not.toContain(secret);
    expect(scrubbed).toContain('failed');
    const job = describeFailedJob({ id: 'j', queue: 'message.send', clientId: 'c', data: { client_id: 'c', message_id: 'm', body: 'private text' }, error: 'x'.repeat(900), attempts: 11, failedAt: new Date(0), createdAt: new Date(0) });
    expect(job.subject).toEqual({ message_id: 'm' });
    expect(job.last_error.length).toBeLessThanOrEqual(501);
  });
});
