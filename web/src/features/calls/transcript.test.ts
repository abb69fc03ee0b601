import { describe, expect, it } from 'vitest';
import { conversation } from './transcript.ts';

describe('call transcript as a conversation', () => {
  it('takes Retell’s utterances with the time of their first word', () => {
    const turns = conversation(
      [
        { role: 'agent', content: 'Thanks for calling.', words: [{ word: 'Thanks', start: 0.4, end: 0.7 }] },
        { role: 'user', content: ' I need an appointment. ', words: [{ word: 'I', start: 2.1, end: 2.2 }] },
        { role: 'transition', content: 'ignored' },
      ],
      'Agent: something else',
    );
    expect(turns).toEqual([
      { speaker: 'agent', text: 'Thanks for calling.', at: 0.4 },
      { speaker: 'caller', text: 'I need an appointment.', at: 2.1 },
    ]);
  });

  it('falls back to the text, joining continuation lines to their turn', () => {
    expect(conversation(null, 'Agent: Hello.\nUser: Hi, I would like\nto book.\n\nAgent: Sure.')).toEqual([
      { speaker: 'agent', text: 'Hello.', at: null },
      { speaker: 'caller', text: 'Hi, I would like to book.', at: null },
      { speaker: 'agent', text: 'Sure.', at: null },
    ]);
    expect(conversation([], null)).toEqual([]);
  });
});
