/**
 * Deciding and recording outbound messages. `queueMessage` runs inside the caller's tenant
 * transaction: it renders nothing itself, it stores the message with its idempotency key and
 * enqueues the send job in the same transaction, or records why it will not be sent.
 */
import type { ServableClient } from '../clients/client.schema.ts';
import type { DomainEventEmitter } from '../core/domain-events.ts';
import type { Tx } from '../platform/db/database.ts';
import type { JobQueue } from '../platform/queue.ts';
import { messageSendJob } from './message-send.job.ts';
import { smsSegments } from '../integrations/sms/sms.ts';
import { createMessage, recordDelivery, type MessageRow, type NewMessage } from './messages.repo.ts';
import { nextSendTime } from './quiet-hours.ts';

/** What queueing a message writes to besides its row: the send job, and `message.suppressed`. */
export interface QueueMessageContext {
  queue: Pick<JobQueue, 'enqueue'>;
  events: DomainEventEmitter;
}

export interface QueueMessageInput {
  channel: 'sms' | 'email';
  /** confirmation | followup | summary | caller_email | message_taken | link … */
  kind: string;
  /** Unique per client: the same key never creates a second message. */
  idempotencyKey: string;
  callId: string | null;
  customerId: string | null;
  to: string;
  subject?: string;
  body: string;
  html?: string;
  /** The recipient has opted out of texts. */
  optedOut?: boolean;
}

/** Status a new message starts in, and when it may be sent. */
export function initialStatus(client: ServableClient, input: QueueMessageInput, now: Date): { status: MessageRow['status']; sendAfter: Date | null } {
  if (input.channel === 'sms' && input.optedOut) return { status: 'suppressed', sendAfter: null };
  // Test clients render and store everything and send nothing.
  if (client.config.environment === 'test') return { status: 'sandbox', sendAfter: null };
  if (input.channel === 'sms' && client.config.sms) {
    const at = nextSendTime(now, client.config.timezone, client.config.sms.quiet_hours);
    if (at.getTime() > now.getTime()) return { status: 'held', sendAfter: at };
  }
  return { status: 'pending', sendAfter: null };
}

function providerFor(client: ServableClient, channel: 'sms' | 'email'): string {
  const provider = channel === 'sms' ? client.config.sms?.provider : client.config.email?.provider;
  if (!provider) throw new Error(`client ${client.id} has no ${channel} provider`);
  return provider;
}

function fromAddress(client: ServableClient, channel: 'sms' | 'email'): string | null {
  if (channel === 'email') return client.config.email?.from ?? null;
  const sms = client.config.sms;
  switch (sms?.provider) {
    case 'twilio':
      return sms.from_number ?? sms.messaging_service_sid ?? null;
    case 'text180':
      return sms.short_code;
    case undefined:
      return null;
  }
}

export async function queueMessage(
  tx: Tx,
  client: ServableClient,
  input: QueueMessageInput,
  ctx: QueueMessageContext,
  now: Date = new Date(),
): Promise<{ message: MessageRow; created: boolean }> {
  const { status, sendAfter } = initialStatus(client, input, now);
  const { row, created } = await createMessage(tx, client.id, {
    callId: input.callId,
    customerId: input.customerId,
    channel: input.channel,
    kind: input.kind,
    idempotencyKey: input.idempotencyKey,
    provider: providerFor(client, input.channel),
    toAddress: input.to,
    fromAddress: fromAddress(client, input.channel),
    subject: input.subject ?? null,
    body: input.body,
    html: input.html ?? null,
    status,
    segments: input.channel === 'sms' ? smsSegments(input.body).segments : null,
    sendAfter,
  });
  if (created && status === 'suppressed') {
    await ctx.events.emit(
      tx,
      client.id,
      'message.suppressed',
      { message_id: row.id, call_id: row.callId, channel: input.channel, kind: input.kind, reason: 'opted_out' },
      { key: `message:${row.id}:suppressed` },
    );
  }
  if (created && (status === 'pending' || status === 'held')) {
    await ctx.queue.enqueue(
      messageSendJob,
      { client_id: client.id, message_id: row.id },
      { tx, key: `${client.id}:${row.id}`, ...(sendAfter ? { startAfter: sendAfter } : {}) },
    );
  }
  return { message: row, created };
}

/**
 * A provider's delivery report for one of this client's messages (`message.delivered` or
 * `message.failed` when it moves the message there); false when no message has that id.
 */
export async function recordDeliveryStatus(
  tx: Tx,
  events: DomainEventEmitter,
  clientId: string,
  providerMessageId: string,
  status: 'sent' | 'delivered' | 'failed',
  errorCode: string | null,
): Promise<boolean> {
  const { found, updated } = await recordDelivery(tx, clientId, providerMessageId, status, errorCode);
  if (updated?.status === 'delivered') {
    await events.emit(
      tx,
      clientId,
      'message.delivered',
      { message_id: updated.id, call_id: updated.callId, channel: updated.channel as 'sms' | 'email', provider: updated.provider },
      { key: `message:${updated.id}:delivered` },
    );
  } else if (updated?.status === 'failed') {
    await events.emit(
      tx,
      clientId,
      'message.failed',
      { message_id: updated.id, call_id: updated.callId, channel: updated.channel as 'sms' | 'email', kind: updated.kind, provider: updated.provider, error_code: updated.errorCode },
      { key: `message:${updated.id}:failed` },
    );
  }
  return found;
}

/** Stores a message that will not be sent (e.g. no channel configured), so it still shows in the API. */
export async function recordUnsentMessage(tx: Tx, clientId: string, message: NewMessage): Promise<void> {
  await createMessage(tx, clientId, message);
}
