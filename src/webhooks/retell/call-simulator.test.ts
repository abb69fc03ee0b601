import { describe, expect, it } from 'vitest';
import { SCENARIOS, simulateCall } from './call-simulator.ts';

type Sent = { path: string; body: { event?: string; call?: Record<string, unknown>; call_inbound?: Record<string, unknown> } };

/** A stand-in for the server: records what the simulator sends and answers call_inbound like ours. */
function recordingServer(answer: Record<string, unknown>) {
  const sent: Sent[] = [];
  const fetchStub: typeof fetch = async (input, init) => {
    const body = JSON.parse(typeof init?.body === 'string' ? init.body : '{}') as Sent['body'];
    sent.push({ path: new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url).pathname, body });
    if (body.event === 'call_inbound') return new Response(JSON.stringify({ call_inbound: answer }), { status: 200 });
    if (!body.event) return new Response(JSON.stringify({ result: 'ok' }), { status: 200 });
    return new Response(null, { status: 204 });
  };
  return { sent, fetchStub };
}

describe('simulateCall', () => {
  it.each(SCENARIOS)('%s: an inbound call from the caller to the client\'s own number, carrying what our call_inbound answer set', async (scenario) => {
    const { sent, fetchStub } = recordingServer({ dynamic_variables: { business_name: 'Acme' }, metadata: { client_id: 'acme' } });
    await simulateCall({ baseUrl: 'http://app', clientId: 'acme', apiKey: 'key', agentId: 'agent_1', scenario, businessNumber: '+13105550188', fetch: fetchStub });
    const calls = sent.flatMap((s) => (s.body.call ? [s.body.call] : []));
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call).toMatchObject({ direction: 'inbound', from_number: '+14155550142', to_number: '+13105550188', metadata: { client_id: 'acme' }, retell_llm_dynamic_variables: { business_name: 'Acme' } });
    }
    expect(sent[0]?.body.call_inbound).toMatchObject({ to_number: '+13105550188' });
    const events = sent.map((s) => s.body.event ?? 'function');
    if (scenario === 'no-answer') {
      // Never connected: no call_started, and the end events say not_connected with no transcript.
      expect(events).toEqual(['call_inbound', 'call_analyzed', 'call_ended', 'call_ended']);
      expect(calls.at(-1)).toMatchObject({ call_status: 'not_connected', disconnection_reason: 'user_hangup' });
      expect(calls.at(-1)).not.toHaveProperty('transcript');
    } else {
      expect(events.slice(0, 2)).toEqual(['call_inbound', 'call_started']);
      const ended = calls.at(-1)!;
      expect(ended).toMatchObject({ call_status: 'ended' });
      expect((ended.transcript_object as { words: unknown[] }[])[0]?.words.length).toBeGreaterThan(0);
    }
    if (scenario === 'voicemail') {
      const analyzed = sent.find((s) => s.body.event === 'call_analyzed')?.body.call;
      expect(analyzed).toMatchObject({ disconnection_reason: 'voicemail_reached', call_analysis: { in_voicemail: true } });
    }
  });

  it('stops after call_inbound when our answer rejects the call, as Retell hangs up', async () => {
    const { sent, fetchStub } = recordingServer({ reject: true });
    await simulateCall({ baseUrl: 'http://app', clientId: 'acme', apiKey: 'key', agentId: 'agent_1', scenario: 'booked', fetch: fetchStub });
    expect(sent.map((s) => s.body.event)).toEqual(['call_inbound']);
  });
});
