import { describe, expect, it } from 'vitest';
import type { CallDetail } from './calls.queries.ts';
import { callTimeline } from './timeline.ts';

const base = {
  call_id: 'call_1',
  events: [
    { id: 'e2', event: 'call_ended', received_at: '2025-03-01T10:05:00.000Z' },
    { id: 'e1', event: 'call_started', received_at: '2025-03-01T10:00:00.000Z' },
  ],
  function_calls: [{ id: 'f1', name: 'book_appointment', args: {}, outcome: 'ok', error_code: null, latency_ms: 212, created_at: '2025-03-01T10:02:00.000Z' }],
  messages: [
    {
      id: 'm1',
      call_id: 'call_1',
      channel: 'sms',
      kind: 'confirmation',
      provider: 'twilio',
      to_address: '+14155550142',
      from_address: null,
      subject: null,
      body: 'See you',
      status: 'failed',
      error_code: '21610',
      error_message: 'Recipient opted out',
      segments: 1,
      attempts: 1,
      sent_at: null,
      delivered_at: null,
      created_at: '2025-03-01T10:06:00.000Z',
    },
  ],
  appointment: null,
} as unknown as CallDetail;

describe('call timeline', () => {
  it('orders events, function calls and messages by time, with latency and failure reasons', () => {
    const entries = callTimeline(base);
    expect(entries.map((e) => e.title)).toEqual(['Call connected', 'Agent used book appointment', 'Call ended', 'Text confirmation to +14155550142']);
    expect(entries[1]?.detail).toBe('answered in 212 ms');
    expect(entries[3]).toMatchObject({ detail: 'Failed: Recipient opted out', tone: 'bad' });
  });
});
