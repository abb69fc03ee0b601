/**
 * A realistic Retell call, delivered the way Retell delivers it: signed with the client's key,
 * call_inbound first, function calls during the call, then the lifecycle events with one
 * out-of-order delivery (call_analyzed before call_ended) and one duplicate (call_ended twice).
 * Used by `xlnc simulate-call` and by the tests.
 */
import { randomBytes } from 'node:crypto';
import { signRetellBody } from './retell-signature.ts';

export const SCENARIOS = ['booked', 'message', 'no-answer', 'voicemail'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface SimulationOptions {
  baseUrl: string;
  clientId: string;
  apiKey: string;
  agentId: string;
  scenario: Scenario;
  /** The caller (inbound) or the number dialled (outbound). */
  customerNumber?: string;
  businessNumber?: string;
  callId?: string;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface SimulationStep {
  label: string;
  path: string;
  status: number;
  body: unknown;
}

function callObject(o: SimulationOptions, callId: string, extra: Record<string, unknown>) {
  const outbound = o.scenario === 'no-answer' || o.scenario === 'voicemail';
  const customer = o.customerNumber ?? '+14155550142';
  const business = o.businessNumber ?? '+14155550100';
  return {
    call_id: callId,
    call_type: 'phone_call',
    agent_id: o.agentId,
    agent_version: 1,
    direction: outbound ? 'outbound' : 'inbound',
    from_number: outbound ? business : customer,
    to_number: outbound ? customer : business,
    metadata: { client_id: o.clientId, source: 'xlnc-simulator' },
    ...extra,
  };
}

export async function simulateCall(o: SimulationOptions): Promise<SimulationStep[]> {
  const doFetch = o.fetch ?? globalThis.fetch;
  const now = o.now ?? Date.now;
  const callId = o.callId ?? `call_sim_${randomBytes(12).toString('hex')}`;
  const webhookPath = `/api/webhooks/retell/${o.clientId}`;
  const steps: SimulationStep[] = [];
  const base = o.baseUrl.replace(/\/+$/, '');

  const send = async (label: string, path: string, payload: unknown): Promise<SimulationStep> => {
    const body = JSON.stringify(payload);
    const response = await doFetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-retell-signature': signRetellBody(body, o.apiKey, now()) },
      body,
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: keep the text.
    }
    const step = { label, path, status: response.status, body: parsed };
    steps.push(step);
    return step;
  };

  const started = now() - 95_000;
  const ended = now() - 5_000;
  const connected = o.scenario === 'booked' || o.scenario === 'message' || o.scenario === 'voicemail';
  const inbound = o.scenario === 'booked' || o.scenario === 'message';
  const transcriptLines: string[] = ['Agent: Thanks for calling, how can I help you today?'];

  if (inbound) {
    const c = callObject(o, callId, {});
    await send('call_inbound', webhookPath, {
      event: 'call_inbound',
      event_timestamp: started - 2000,
      call_inbound: { agent_id: o.agentId, agent_version: 1, from_number: c.from_number, to_number: c.to_number, call_id: callId },
    });
  }
  if (connected) {
    await send('call_started', webhookPath, { event: 'call_started', call: callObject(o, callId, { call_status: 'ongoing', start_timestamp: started }) });
  }

  const functionCall = (name: string, args: Record<string, unknown>) =>
    send(`function ${name}`, `${webhookPath}/functions/${name}`, {
      name,
      args,
      call: callObject(o, callId, { call_status: 'ongoing', start_timestamp: started, transcript: transcriptLines.join('\n') }),
    });

  let booked = false;
  if (o.scenario === 'booked') {
    transcriptLines.push("User: Hi, I'd like to book an appointment this week.");
    const availability = await functionCall('check_availability', { days_ahead: 7 });
    const slots = (availability.body as { slots?: { start: string }[] } | null)?.slots ?? [];
    if (availability.status === 200 && slots[0]) {
      transcriptLines.push(`Agent: I have ${slots[0].start} available.`, 'User: That works.');
      const booking = await functionCall('book_appointment', { name: 'Jane Roe', start: slots[0].start, reason: 'Consultation' });
      booked = booking.status === 200 && (booking.body as { booked?: boolean } | null)?.booked === true;
    }
  } else if (o.scenario === 'message') {
    transcriptLines.push('User: Can you ask the owner to call me back about my return?');
    await functionCall('take_message', { name: 'Jane Roe', phone: o.customerNumber ?? '+14155550142', message: 'Please call back about my tax return.', urgency: 'normal' });
  }

  const endFields = {
    call_status: connected ? 'ended' : 'not_connected',
    ...(connected ? { start_timestamp: started, end_timestamp: ended, duration_ms: ended - started } : {}),
    disconnection_reason:
      o.scenario === 'no-answer' ? 'dial_no_answer' : o.scenario === 'voicemail' ? 'voicemail_reached' : 'user_hangup',
    ...(connected ? { transcript: `${transcriptLines.join('\n')}\n`, recording_url: `https://recordings.example/${callId}.wav` } : {}),
  };
  const analysis = {
    call_summary:
      o.scenario === 'booked'
        ? `The caller booked an appointment${booked ? '' : ' (booking not confirmed by the platform)'}.`
        : o.scenario === 'message'
          ? 'The caller left a message asking for a call back about their tax return.'
          : o.scenario === 'voicemail'
            ? 'The call reached voicemail.'
            : 'The call was not answered.',
    user_sentiment: o.scenario === 'booked' ? 'Positive' : 'Neutral',
    call_successful: o.scenario === 'booked' || o.scenario === 'message',
    in_voicemail: o.scenario === 'voicemail',
    custom_analysis_data: { appointment_booked: booked },
  };
  // Out of order: the analysis lands before call_ended (Retell's delivery is not blocking).
  await send('call_analyzed (out of order)', webhookPath, { event: 'call_analyzed', call: callObject(o, callId, { ...endFields, call_analysis: analysis }) });
  await send('call_ended', webhookPath, { event: 'call_ended', call: callObject(o, callId, endFields) });
  await send('call_ended (duplicate)', webhookPath, { event: 'call_ended', call: callObject(o, callId, endFields) });
  return steps;
}
