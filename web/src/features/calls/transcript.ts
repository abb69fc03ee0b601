/** A call's transcript as turns of a conversation, from Retell's utterances or, without them, its text. */

export interface Turn {
  speaker: 'agent' | 'caller';
  text: string;
  /** Seconds from the start of the call, when Retell sent word timings. */
  at: number | null;
}

function speakerOf(role: unknown): Turn['speaker'] | null {
  if (role === 'agent') return 'agent';
  if (role === 'user') return 'caller';
  return null;
}

/** Retell's `transcript_object`: [{ role: 'agent' | 'user', content, words: [{ start }] }]. */
function fromUtterances(utterances: unknown): Turn[] | null {
  if (!Array.isArray(utterances) || utterances.length === 0) return null;
  const turns: Turn[] = [];
  for (const item of utterances as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const { role, content, words } = item as { role?: unknown; content?: unknown; words?: unknown };
    const speaker = speakerOf(role);
    if (speaker === null || typeof content !== 'string' || content.trim() === '') continue;
    const first = Array.isArray(words) ? (words[0] as { start?: unknown } | undefined) : undefined;
    turns.push({ speaker, text: content.trim(), at: typeof first?.start === 'number' ? first.start : null });
  }
  return turns.length > 0 ? turns : null;
}

/** "Agent: …\nUser: …" lines; a line without a speaker continues the turn before it. */
function fromText(transcript: string): Turn[] {
  const turns: Turn[] = [];
  for (const line of transcript.split(/\r?\n/)) {
    const match = /^\s*(agent|user|caller)\s*:\s*(.*)$/i.exec(line);
    if (match?.[1] && match[2] !== undefined) {
      turns.push({ speaker: match[1].toLowerCase() === 'agent' ? 'agent' : 'caller', text: match[2].trim(), at: null });
    } else if (line.trim() !== '') {
      const last = turns[turns.length - 1];
      if (last) last.text = `${last.text} ${line.trim()}`;
      else turns.push({ speaker: 'agent', text: line.trim(), at: null });
    }
  }
  return turns.filter((turn) => turn.text !== '');
}

export function conversation(transcriptObject: unknown, transcript: string | null): Turn[] {
  return fromUtterances(transcriptObject) ?? (transcript ? fromText(transcript) : []);
}
