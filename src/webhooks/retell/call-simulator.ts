/**
 * A realistic Retell call to one client's number, delivered the way Retell delivers it
 * (../shared/reference/retell.md §1-§4, §8): signed with the client's key; `call_inbound` first,
 * whose answer (dynamic variables, metadata, an override agent or a rejection) shapes the call
 * like Retell applies it; function calls during the call; then the lifecycle events with one
 * out-of-order delivery (call_analyzed before call_ended) and one duplicate (call_ended twice).
 * Every scenario is an inbound call from a caller to the client's `retell.phone_numbers[0]`:
 *   booked     the caller books the first slot offered
 *   message    the caller leaves a message for the business
 *   no-answer  the caller hangs up before the agent picks up: never connected, so no call_started
 *   voicemail  an answering machine calls (an automated call-back) and the agent detects it
 * Used by `xlnc simulate-call` and by the tests.
 */
import { randomBytes } from 'node:crypto';
import { signRetellBody } from './retell-signature.ts';

export const SCENARIOS = ['booked', 'message', 'no-answer', 'voicemail'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The number a simulated call dials when the client lists none (US fictional range). */
export const FALLBACK_BUSINESS_NUMBER = '+14155550100';
export const DEFAULT_CALLER_NUMBER = '+14155550142';

export interface SimulationOptions {
  baseUrl: string;
  clientId: string;
  apiKey: string;
  agentId: string;
  scenario: Scenario;
  /** The caller. */
  customerNumber?: string;
  /** The client's number that is dialled (its `retell.phone_numbers[0]`). */
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

/** The server did not answer at all (nothing listening, DNS, TLS): says where it tried. */
export class SimulatorUnreachableError extends Error {
  readonly url: string;
  readonly reason: string;
  constructor(url: string, reason: string) {
    super(`Could not reach ${url} (${reason})`);
    this.name = 'SimulatorUnreachableError';
    this.url = url;
    this.reason = reason;
  }
}

function failureReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

interface Turn {
  role: 'agent' | 'user';
  content: string;
}

/** Retell's transcript forms: the text, the per-utterance objects with word timings, and with tool calls. */
function transcripts(turns: readonly Turn[], toolCalls: readonly { afterTurn: number; entries: unknown[] }[]) {
  let clock = 0.4;
  const transcriptObject = turns.map((turn) => ({
    role: turn.role,
    content: turn.content,
    words: turn.content.split(/\s+/).map((word) => {
      const start = clock;
      clock = Math.round((clock + 0.32) * 100) / 100;
      return { word, start, end: Math.round((start + 0.28) * 100) / 100 };
    }),
  }));
  const withToolCalls: unknown[] = [];
  transcriptObject.forEach((utterance, index) => {
    withToolCalls.push(utterance);
    for (const call of toolCalls) if (call.afterTurn === index) withToolCalls.push(...call.entries);
  });
  return {
    transcript: `${turns.map((t) => `${t.role === 'agent' ? 'Agent' : 'User'}: ${t.content}`).join('\n')}\n`,
    transcript_object: transcriptObject,
    transcript_with_tool_calls: withToolCalls,
  };
}

export async function simulateCall(o: SimulationOptions): Promise<SimulationStep[]> {
  const doFetch = o.fetch ?? globalThis.fetch;
  const now = o.now ?? Date.now;
  const callId = o.callId ?? `call_sim_${randomBytes(12).toString('hex')}`;
  const webhookPath = `/api/webhooks/retell/${encodeURIComponent(o.clientId)}`;
  const steps: SimulationStep[] = [];
  const base = o.baseUrl.replace(/\/+$/, '');
  const caller = o.customerNumber ?? DEFAULT_CALLER_NUMBER;
  const business = o.businessNumber ?? FALLBACK_BUSINESS_NUMBER;

  const send = async (label: string, path: string, payload: unknown): Promise<SimulationStep> => {
    const body = JSON.stringify(payload);
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-retell-signature': signRetellBody(body, o.apiKey, now()) },
        body,
      });
    } catch (error) {
      throw new SimulatorUnreachableError(base, failureReason(error));
    }
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
  const inboundAt = started - 2_000;

  // call_inbound: Retell asks before the call connects; the answer shapes the call.
  const inbound = await send('call_inbound', webhookPath, {
    event: 'call_inbound',
    event_timestamp: inboundAt,
    call_inbound: { agent_id: o.agentId, agent_version: 1, from_number: caller, to_number: business, call_id: callId },
  });
  const answer = (inbound.body as { call_inbound?: { reject?: boolean; override_agent_id?: string; dynamic_variables?: Record<string, string>; metadata?: unknown } } | null)?.call_inbound;
  if (inbound.status >= 300 || answer?.reject === true) return steps; // Retell hangs up: no call.

  const callBase = {
    call_id: callId,
    call_type: 'phone_call',
    agent_id: answer?.override_agent_id ?? o.agentId,
    agent_version: 1,
    direction: 'inbound',
    from_number: caller,
    to_number: business,
    // Retell omits both when they were not set (here: by our call_inbound answer).
    ...(answer?.metadata !== undefined ? { metadata: answer.metadata } : {}),
    ...(answer?.dynamic_variables !== undefined ? { retell_llm_dynamic_variables: answer.dynamic_variables } : {}),
    data_storage_setting: 'everything',
    opt_in_signed_url: false,
  };

  const greeting = `Thanks for calling${answer?.dynamic_variables?.business_name ? ` ${answer.dynamic_variables.business_name}` : ''}, how can I help you today?`;
  const turns: Turn[] = [{ role: 'agent', content: greeting }];
  const toolCalls: { afterTurn: number; entries: unknown[] }[] = [];
  const connected = o.scenario !== 'no-answer';

  if (connected) {
    await send('call_started', webhookPath, { event: 'call_started', call: { ...callBase, call_status: 'ongoing', start_timestamp: started } });
  }

  const functionCall = async (name: string, args: Record<string, unknown>) => {
    const step = await send(`function ${name}`, `${webhookPath}/functions/${name}`, {
      name,
      args,
      call: { ...callBase, call_status: 'ongoing', start_timestamp: started, ...transcripts(turns, toolCalls) },
    });
    const toolCallId = `tc_${randomBytes(6).toString('hex')}`;
    toolCalls.push({
      afterTurn: turns.length - 1,
      entries: [
        { role: 'tool_call_invocation', tool_call_id: toolCallId, name, arguments: JSON.stringify(args) },
        { role: 'tool_call_result', tool_call_id: toolCallId, successful: step.status === 200, content: typeof step.body === 'string' ? step.body : JSON.stringify(step.body) },
      ],
    });
    return step;
  };

  let booked = false;
  if (o.scenario === 'booked') {
    turns.push({ role: 'user', content: "Hi, I'd like to book an appointment this week." });
    const availability = await functionCall('check_availability', { days_ahead: 7 });
    const slots = (availability.body as { slots?: { start: string; spoken?: string }[] } | null)?.slots ?? [];
    const first = slots[0];
    if (availability.status === 200 && first) {
      turns.push({ role: 'agent', content: `I have ${first.spoken ?? first.start} available. Does that work?` }, { role: 'user', content: 'That works, my name is Jane Roe.' });
      const booking = await functionCall('book_appointment', { name: 'Jane Roe', start: first.start, reason: 'Consultation' });
      booked = booking.status === 200 && (booking.body as { booked?: boolean } | null)?.booked === true;
      turns.push({ role: 'agent', content: booked ? "You're all set. Is there anything else?" : "I'm sorry, I could not book that." }, { role: 'user', content: "No, that's all. Thank you!" });
    } else {
      turns.push({ role: 'agent', content: "I'm sorry, I can't see any open times right now." });
    }
  } else if (o.scenario === 'message') {
    turns.push({ role: 'user', content: 'Could someone call me back about my appointment?' });
    await functionCall('take_message', { name: 'Jane Roe', phone: caller, message: 'Please call me back about my appointment.', urgency: 'normal' });
    turns.push({ role: 'agent', content: "I've passed your message on. Someone will call you back." }, { role: 'user', content: 'Thanks, bye.' });
  } else if (o.scenario === 'voicemail') {
    turns.push({ role: 'user', content: 'Hello, this is an automated message from Springfield Pharmacy. Please call us back at your convenience.' });
  }

  const ended = now() - 5_000;
  const durationMs = ended - started;
  const endFields = connected
    ? {
        call_status: 'ended',
        start_timestamp: started,
        end_timestamp: ended,
        duration_ms: durationMs,
        disconnection_reason: o.scenario === 'voicemail' ? 'voicemail_reached' : 'user_hangup',
        ...transcripts(turns, toolCalls),
        recording_url: `https://recordings.example/${callId}.wav`,
        public_log_url: `https://logs.example/${callId}.log`,
        call_cost: {
          combined_cost: Math.round((durationMs / 60_000) * 12.5 * 100) / 100,
          product_costs: [{ product: 'retell_platform', unit_price: 0.1, cost: Math.round((durationMs / 1000) * 0.1 * 100) / 100 }],
          total_duration_seconds: Math.round(durationMs / 1000),
          total_duration_unit_price: 0.125,
        },
      }
    : // Never connected: no timestamps, transcript or recording (retell.md §8.4).
      { call_status: 'not_connected', disconnection_reason: 'user_hangup' };
  const analysis = {
    call_summary:
      o.scenario === 'booked'
        ? `The caller booked an appointment${booked ? '' : ' (booking not confirmed by the platform)'}.`
        : o.scenario === 'message'
          ? 'The caller left a message asking for a call back about their appointment.'
          : o.scenario === 'voicemail'
            ? 'An automated message from a pharmacy asked for a call back.'
            : 'The caller hung up before the call connected.',
    user_sentiment: o.scenario === 'booked' ? 'Positive' : o.scenario === 'message' ? 'Neutral' : 'Unknown',
    call_successful: o.scenario === 'booked' || o.scenario === 'message',
    in_voicemail: o.scenario === 'voicemail',
    custom_analysis_data: { appointment_booked: booked },
  };
  const call = { ...callBase, ...endFields };
  // Out of order: the analysis lands before call_ended (Retell's delivery is not blocking).
  await send('call_analyzed (out of order)', webhookPath, { event: 'call_analyzed', call: { ...call, call_analysis: analysis } });
  await send('call_ended', webhookPath, { event: 'call_ended', call });
  await send('call_ended (duplicate)', webhookPath, { event: 'call_ended', call });
  return steps;
}
