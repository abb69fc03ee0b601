/**
 * Outbound messages (SMS and email). A row exists before anything is sent, keyed uniquely per
 * (client, idempotency key), and moves pending|held → sending → sent|failed|unknown|suppressed.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Tx } from '../platform/db/database.ts';
import { messages } from '../platform/db/schema.ts';

export type MessageRow = typeof messages.$inferSelect;
export type NewMessage = Omit<typeof messages.$inferInsert, 'clientId' | 'id'>;

/** Inserts the message unless one with the same key exists; returns the row and whether it is new. */
export async function createMessage(tx: Tx, clientId: string, message: NewMessage): Promise<{ row: MessageRow; created: boolean }> {
  const [inserted] = await tx
    .insert(messages)
    .values({ ...message, clientId })
    .onConflictDoNothing({ target: [messages.clientId, messages.idempotencyKey] })
    .returning();
  if (inserted) return { row: inserted, created: true };
  const [existing] = await tx
    .select()
    .from(messages)
    .where(and(eq(messages.clientId, clientId), eq(messages.idempotencyKey, message.idempotencyKey)));
  if (!existing) throw new Error('message vanished between insert and select');
  return { row: existing, created: false };
}

export async function findMessage(tx: Tx, clientId: string, id: string): Promise<MessageRow | undefined> {
  const [row] = await tx.select().from(messages).where(and(eq(messages.clientId, clientId), eq(messages.id, id)));
  return row;
}

/** Takes the message for sending; undefined when another attempt already has it or it is settled. */
export async function claimForSending(tx: Tx, clientId: string, id: string): Promise<MessageRow | undefined> {
  const [row] = await tx
    .update(messages)
    .set({ status: 'sending', attempts: sql`${messages.attempts} + 1`, updatedAt: sql`now()` })
    .where(and(eq(messages.clientId, clientId), eq(messages.id, id), inArray(messages.status, ['pending', 'held'])))
    .returning();
  return row;
}

export async function settleMessage(
  tx: Tx,
  clientId: string,
  id: string,
  fields: {
    status: 'pending' | 'sent' | 'failed' | 'unknown' | 'suppressed';
    providerMessageId?: string | null;
    errorCode?: string | null;
    errorMessage?: string | null;
  },
): Promise<void> {
  await tx
    .update(messages)
    .set({
      status: fields.status,
      ...(fields.providerMessageId !== undefined ? { providerMessageId: fields.providerMessageId } : {}),
      errorCode: fields.errorCode ?? null,
      errorMessage: fields.errorMessage ?? null,
      ...(fields.status === 'sent' ? { sentAt: sql`now()` } : {}),
      updatedAt: sql`now()`,
    })
    .where(and(eq(messages.clientId, clientId), eq(messages.id, id)));
}

/** Delivery states only move forward: a late "sent" callback never undoes "delivered". */
const DELIVERY_RANK: Record<string, number> = { pending: 0, held: 0, sending: 1, unknown: 1, sent: 2, failed: 3, delivered: 3 };

/**
 * Applies a provider's delivery report. `found`: a message of this client has that provider id;
 * `updated`: the row after the report, when the report moved its status forward.
 */
export async function recordDelivery(
  tx: Tx,
  clientId: string,
  providerMessageId: string,
  status: 'sent' | 'delivered' | 'failed',
  errorCode: string | null,
): Promise<{ found: boolean; updated?: MessageRow }> {
  const [row] = await tx
    .select({ id: messages.id, status: messages.status })
    .from(messages)
    .where(and(eq(messages.clientId, clientId), eq(messages.providerMessageId, providerMessageId)));
  if (!row) return { found: false };
  if ((DELIVERY_RANK[row.status] ?? 0) >= (DELIVERY_RANK[status] ?? 0) && row.status !== 'sending') return { found: true };
  const [updated] = await tx
    .update(messages)
    .set({
      status,
      ...(status === 'delivered' ? { deliveredAt: sql`now()` } : {}),
      ...(errorCode ? { errorCode } : {}),
      updatedAt: sql`now()`,
    })
    .where(and(eq(messages.clientId, clientId), eq(messages.id, row.id)))
    .returning();
  return updated ? { found: true, updated } : { found: true };
}
