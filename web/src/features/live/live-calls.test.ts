import { describe, expect, it } from 'vitest';
import { foldLive, type LiveCall } from './live-calls.ts';

const call = (id: string, extra: Partial<LiveCall> = {}): LiveCall => ({
  call_id: id,
  agent_id: null,
  direction: 'inbound',
  from_number: '+14155550142',
  to_number: '+14155550100',
  status: 'ongoing',
  started_at: '2026-12-01T12:00:00.000Z',
  transcript: [],
  ...extra,
});

describe('foldLive', () => {
  it('adds started calls newest first, updates their transcript, drops them when they end', () => {
    let calls = foldLive([], { type: 'snapshot', data: { calls: [call('a')] } });
    calls = foldLive(calls, { type: 'call.started', data: call('b') });
    expect(calls.map((c) => c.call_id)).toEqual(['b', 'a']);
    calls = foldLive(calls, { type: 'call.updated', data: call('a', { transcript: [{ role: 'user', content: 'Hello' }] }) });
    expect(calls.find((c) => c.call_id === 'a')?.transcript).toEqual([{ role: 'user', content: 'Hello' }]);
    // The domain event's call.started after the row's: no second card, the transcript stays.
    calls = foldLive(calls, { type: 'call.started', data: call('a') });
    expect(calls.filter((c) => c.call_id === 'a')).toHaveLength(1);
    expect(calls.find((c) => c.call_id === 'a')?.transcript).toHaveLength(1);
    calls = foldLive(calls, { type: 'call.ended', data: { call_id: 'a' } });
    expect(calls.map((c) => c.call_id)).toEqual(['b']);
  });

  it('a reconnect snapshot decides which calls are live', () => {
    const before = [call('a', { transcript: [{ role: 'agent', content: 'Hi' }] }), call('gone')];
    const after = foldLive(before, { type: 'snapshot', data: { calls: [call('a')] } });
    expect(after).toEqual([call('a', { transcript: [{ role: 'agent', content: 'Hi' }] })]);
  });
});
