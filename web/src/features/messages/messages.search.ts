import { compact, oneOf, text } from '../../lib/search.ts';

export const CHANNELS = ['sms', 'email'] as const;
export const MESSAGE_STATUSES = ['pending', 'sending', 'sent', 'delivered', 'failed', 'unknown', 'suppressed', 'sandbox', 'held'] as const;

export interface MessagesSearch {
  channel?: (typeof CHANNELS)[number] | undefined;
  status?: (typeof MESSAGE_STATUSES)[number] | undefined;
  cursor?: string | undefined;
}

export const parseMessagesSearch = (raw: Record<string, unknown>): MessagesSearch =>
  compact({ channel: oneOf(raw.channel, CHANNELS), status: oneOf(raw.status, MESSAGE_STATUSES), cursor: text(raw.cursor, 1000) });
