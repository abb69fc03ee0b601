import type { FastifyInstance } from 'fastify';
import { signRetellBody } from '../../src/webhooks/retell/retell-signature.ts';

export function retellKeyFor(clientId: string): string {
  return `key_test_${clientId.replaceAll('-', '_')}_secret`;
}

export function agentFor(clientId: string): string {
  return `agent_${clientId.replaceAll('-', '')}`;
}

export function callEvent(
  clientId: string,
  event: string,
  callId: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    event,
    call: {
      call_id: callId,
      call_type: 'phone_call',
      agent_id: agentFor(clientId),
      agent_version: 1,
      call_status: event === 'call_started' ? 'ongoing' : 'ended',
      direction: 'inbound',
      from_number: '+14155550142',
      to_number: '+14155550100',
      start_timestamp: 1_795_000_000_000,
      ...(event !== 'call_started' ? { end_timestamp: 1_795_000_095_000, duration_ms: 95_000, disconnection_reason: 'user_hangup' } : {}),
      ...extra,
    },
  };
}

/** POSTs a body to a client's Retell webhook URL, signed with `key` (the client's own by default). */
export function postSigned(
  app: FastifyInstance,
  clientId: string,
  payload: unknown,
  options: { key?: string; timestampMs?: number; path?: string; signature?: string | null; headers?: Record<string, string> } = {},
) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const signature =
    options.signature === null
      ? undefined
      : (options.signature ?? signRetellBody(body, options.key ?? retellKeyFor(clientId), options.timestampMs ?? Date.now()));
  return app.inject({
    method: 'POST',
    url: options.path ?? `/api/webhooks/retell/${clientId}`,
    headers: { 'content-type': 'application/json', ...(signature ? { 'x-retell-signature': signature } : {}), ...options.headers },
    payload: body,
  });
}
