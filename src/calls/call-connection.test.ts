/**
 * One rule for "did the call connect": the post-call follow-up text goes exactly to the calls
 * analytics counts as connected (outcome not no_answer / voicemail, longer than 0 ms). They used
 * to disagree on registered_call_timeout and error_user_not_joined (texted, counted unanswered)
 * and on ivr_reached and marked_as_spam (not texted, counted connected).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomeSql, perRowEvidence } from '../analytics/call-outcome.ts';
import type { ServableClient } from '../clients/client.schema.ts';
import { sqlRows } from '../platform/db/database.ts';
import { callEvent, postSigned } from '../../test/helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import { callReached, isConnected, NOT_CONNECTED_REASONS } from './call-connection.ts';
import { runPostCallWorkflow } from './post-call.job.ts';

/** Retell's disconnection reasons (5.66.1, ../shared/reference/retell.md). */
const RETELL_REASONS = [
  'user_hangup', 'agent_hangup', 'call_transfer', 'voicemail_reached', 'ivr_reached', 'inactivity', 'max_duration_reached',
  'concurrency_limit_reached', 'no_concurrency_fallback', 'no_valid_payment', 'scam_detected', 'dial_busy', 'dial_failed',
  'dial_no_answer', 'invalid_destination', 'telephony_provider_permission_denied', 'telephony_provider_unavailable',
  'sip_routing_error', 'marked_as_spam', 'user_declined', 'error_llm_websocket_open', 'error_llm_websocket_lost_connection',
  'error_llm_websocket_runtime', 'error_llm_websocket_corrupt_payload', 'error_no_audio_received', 'error_asr', 'error_retell',
  'error_unknown', 'error_user_not_joined', 'registered_call_timeout', 'transfer_bridged', 'transfer_cancelled', 'manual_stopped',
  'call_take_over',
] as const;

describe('call connection', () => {
  it('the rule: who answered, voicemail, and a duration', () => {
    const facts = (disconnectionReason: string | null, extra: Partial<Parameters<typeof isConnected>[0]> = {}) => ({ status: 'ended', disconnectionReason, inVoicemail: null, durationMs: 60_000, ...extra });
    expect(isConnected(facts('user_hangup'))).toBe(true);
    for (const reason of NOT_CONNECTED_REASONS) expect(callReached(facts(reason)), reason).toBe('no_answer');
    expect(callReached(facts('voicemail_reached'))).toBe('voicemail');
    expect(callReached(facts('user_hangup', { inVoicemail: true }))).toBe('voicemail');
    expect(callReached(facts('user_hangup', { status: 'not_connected' }))).toBe('no_answer');
    expect(isConnected(facts('user_hangup', { durationMs: 0 }))).toBe(false);
    expect(isConnected(facts('user_hangup', { durationMs: null }))).toBe(false);
  });
});

describe('post-call texts and analytics agree on every disconnection reason', () => {
  let t: TestApp;
  const id = uniqueId('conn');
  let client: ServableClient;

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(id, { sms: { enabled: true, provider: 'twilio', account_sid: `AC${'5'.repeat(32)}`, auth_token: 'conn-token', from_number: '+15005550006' } }));
    t = await createTestApp({ clientsDir: dir });
    client = t.deps.registry.get(id) as ServableClient;
  });
  afterAll(() => t.close());

  it('a follow-up text goes to exactly the calls analytics counts as connected', async () => {
    const cases = [...RETELL_REASONS.map((reason) => ({ reason, status: 'ended' })), { reason: 'user_hangup', status: 'not_connected' }, { reason: 'error_unknown', status: 'error' }];
    const disagreements: string[] = [];
    for (const [i, c] of cases.entries()) {
      const callId = `call_conn_${i}`;
      const response = await postSigned(t.app, id, callEvent(id, 'call_ended', callId, { call_status: c.status, disconnection_reason: c.reason }));
      expect(response.statusCode).toBe(204);
      const [stored] = await sqlRows<{ id: string }>(t.deps.database.db, sql`select id from call_events where client_id = ${id} and call_id = ${callId}`);
      await runPostCallWorkflow(client, callId, 'call_ended', stored!.id, t.deps);
      const [row] = await t.deps.tenancy.withTenant(id, (tx) =>
        sqlRows<{ outcome: string; duration_ms: number; texted: boolean }>(
          tx,
          sql`select ${outcomeSql(perRowEvidence)} as outcome, c.duration_ms::int as duration_ms,
                     exists (select 1 from messages m where m.client_id = c.client_id and m.call_id = c.call_id and m.kind = 'followup') as texted
                from calls c where c.client_id = ${id} and c.call_id = ${callId}`,
        ),
      );
      const countedConnected = row!.duration_ms > 0 && row!.outcome !== 'no_answer' && row!.outcome !== 'voicemail';
      if (row!.texted !== countedConnected) disagreements.push(`${c.status}/${c.reason}: texted ${row!.texted}, analytics ${row!.outcome}`);
    }
    expect(disagreements).toEqual([]);
  });
});
