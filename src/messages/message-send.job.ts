/**
 * Sends one stored message. Never sends twice: the row is claimed (pending → sending) before the
 * provider is called, and a row found already "sending" means an earlier attempt died mid-call,
 * so its outcome is unknown: it is reconciled through the provider's lookup where there is one,
 * and otherwise marked `unknown` for staff rather than resent blindly.
 */
import { z } from 'zod';
import type { ServableClient } from '../clients/client.schema.ts';
import { defineJob, type JobContext } from '../core/jobs.ts';
import { changeOptOut } from '../customers/customers.service.ts';
import { integrationHealthFor } from '../integrations/integration-health.ts';
import { isOptOutError, type SmsSender } from '../integrations/sms/sms.ts';
import type { Tx } from '../platform/db/database.ts';
import { ProviderError } from '../platform/provider-http.ts';
import { PermanentJobError } from '../platform/queue.ts';
import { claimForSending, findMessage, settleMessage, type MessageRow } from './messages.repo.ts';

export type SendOutcome = 'sent' | 'failed' | 'unknown' | 'suppressed' | 'skipped' | 'retry';

/** Allow for clock skew between us and the provider when looking for an earlier attempt. */
const LOOKUP_SKEW_MS = 5 * 60_000;

/** What sending needs: the client's adapters, its tenant store, the outbox, health records. */
export type MessageSendContext = Pick<JobContext, 'tenancy' | 'events' | 'adapters' | 'publicUrls' | 'cache'>;

type Settled = Parameters<typeof settleMessage>[3];

/**
 * Settles the message and emits what its new status means (message.sent / failed / suppressed),
 * in one transaction; `then` runs in it too.
 */
async function settle(deps: MessageSendContext, client: ServableClient, message: MessageRow, fields: Settled, then?: (tx: Tx) => Promise<unknown>): Promise<void> {
  await deps.tenancy.withTenant(client.id, async (tx) => {
    await settleMessage(tx, client.id, message.id, fields);
    const base = { message_id: message.id, call_id: message.callId, channel: message.channel as 'sms' | 'email', kind: message.kind };
    switch (fields.status) {
      case 'sent':
        await deps.events.emit(tx, client.id, 'message.sent', { ...base, provider: message.provider, provider_message_id: fields.providerMessageId ?? null }, { key: `message:${message.id}:sent` });
        break;
      case 'failed':
        await deps.events.emit(tx, client.id, 'message.failed', { ...base, provider: message.provider, error_code: fields.errorCode ?? null }, { key: `message:${message.id}:failed` });
        break;
      case 'suppressed':
        await deps.events.emit(tx, client.id, 'message.suppressed', { ...base, reason: fields.errorCode ?? 'opted_out' }, { key: `message:${message.id}:suppressed` });
        break;
      case 'pending':
      case 'unknown':
        break;
    }
    await then?.(tx);
  });
}

async function reconcile(client: ServableClient, message: MessageRow, deps: MessageSendContext): Promise<SendOutcome> {
  const sender: SmsSender | undefined = message.channel === 'sms' ? deps.adapters.smsFor(client) : undefined;
  if (!sender?.lookup) {
    await deps.tenancy.withTenant(client.id, (tx) =>
      settleMessage(tx, client.id, message.id, { status: 'unknown', errorCode: 'ambiguous', errorMessage: 'the provider may have sent it; not resent' }),
    );
    return 'unknown';
  }
  const found = await sender.lookup({ to: message.toAddress, body: message.body, sentAfter: new Date(message.updatedAt.getTime() - LOOKUP_SKEW_MS) });
  if (found) {
    await settle(deps, client, message, { status: 'sent', providerMessageId: found.providerMessageId });
    return 'sent';
  }
  // The provider has no such message: the earlier attempt never went out, so sending is safe.
  await deps.tenancy.withTenant(client.id, (tx) => settleMessage(tx, client.id, message.id, { status: 'pending', errorCode: 'reconciled_not_sent' }));
  return 'retry';
}

async function deliver(client: ServableClient, message: MessageRow, deps: MessageSendContext): Promise<{ providerMessageId?: string }> {
  if (message.channel === 'sms') {
    const statusCallbackUrl = client.config.sms?.provider === 'twilio' ? deps.publicUrls.twilioStatusCallback(client.id) : undefined;
    return deps.adapters.smsFor(client).send({ to: message.toAddress, body: message.body, reference: message.id, ...(statusCallbackUrl ? { statusCallbackUrl } : {}) });
  }
  return deps.adapters.emailFor(client).send({
    to: message.toAddress,
    subject: message.subject ?? '',
    text: message.body,
    html: message.html ?? message.body,
    reference: message.id,
  });
}

export interface SendAttempt {
  /**
   * The job's last attempt: a failure that would be retried is recorded as `failed` instead (with
   * its error), so a message never sits `pending` after its job has given up.
   */
  final: boolean;
}

export async function sendMessage(deps: MessageSendContext, client: ServableClient, messageId: string, attempt: SendAttempt = { final: false }): Promise<SendOutcome> {
  const clientId = client.id;

  const current = await deps.tenancy.withTenant(clientId, (tx) => findMessage(tx, clientId, messageId));
  if (!current) throw new PermanentJobError(`message ${messageId} not found`);
  if (current.status === 'sending') {
    const outcome = await reconcile(client, current, deps);
    if (outcome !== 'retry') return outcome;
  } else if (current.status !== 'pending' && current.status !== 'held') {
    return 'skipped';
  }

  const claimed = await deps.tenancy.withTenant(clientId, (tx) => claimForSending(tx, clientId, messageId));
  if (!claimed) return 'skipped';
  const health = integrationHealthFor(deps, clientId, claimed.channel === 'sms' ? 'sms' : 'email');
  const provider = (claimed.channel === 'sms' ? client.config.sms?.provider : client.config.email?.provider) ?? 'unknown';
  let result: { providerMessageId?: string };
  try {
    result = await deliver(client, claimed, deps);
  } catch (error) {
    const giveUp = async (fields: { errorCode: string; errorMessage: string }): Promise<SendOutcome> => {
      await settle(deps, client, claimed, { status: 'failed', errorCode: fields.errorCode, errorMessage: `gave up after ${claimed.attempts} attempts: ${fields.errorMessage}` });
      return 'failed';
    };
    if (!(error instanceof ProviderError)) {
      // Our own failure before or while building the request: nothing left the process.
      const fields = { errorCode: 'internal', errorMessage: (error as Error).message };
      if (attempt.final) return giveUp(fields);
      await deps.tenancy.withTenant(clientId, (tx) => settleMessage(tx, clientId, messageId, { status: 'pending', ...fields }));
      throw error;
    }
    const fields = { errorCode: error.code ?? (error.status ? `http_${error.status}` : 'provider_error'), errorMessage: error.message };
    if (isOptOutError(error)) {
      await settle(deps, client, claimed, { status: 'suppressed', ...fields }, async (tx) => {
        if (claimed.customerId) await changeOptOut(tx, clientId, claimed.customerId, true, { events: deps.events, source: 'provider' });
      });
      return 'suppressed';
    }
    if (error.ambiguous) {
      const outcome = await reconcile(client, claimed, deps);
      if (outcome !== 'retry') return outcome;
      if (attempt.final) return giveUp(fields);
      throw error;
    }
    if (error.retryable) {
      if (attempt.final) return giveUp(fields);
      await deps.tenancy.withTenant(clientId, (tx) => settleMessage(tx, clientId, messageId, { status: 'pending', ...fields }));
      throw error;
    }
    await settle(deps, client, claimed, { status: 'failed', ...fields });
    await health.failed(provider, error, `update the ${claimed.channel === 'sms' ? 'SMS' : 'email'} settings of this client.`);
    return 'failed';
  }
  // Outside the try: the provider has the message, so a failure to record it must not read as
  // "nothing left the process". The row stays `sending` and the retry reconciles it.
  await settle(deps, client, claimed, { status: 'sent', providerMessageId: result.providerMessageId ?? null });
  await health.ok(provider);
  return 'sent';
}

export const messageSendJob = defineJob({
  name: 'message.send',
  payload: z.object({ client_id: z.string().min(1), message_id: z.uuid() }),
  retryLimit: 10,
  retryDelaySeconds: 2,
  retryDelayMaxSeconds: 300,
  expireInSeconds: 60,
  async handle(client, payload, ctx: MessageSendContext & Pick<JobContext, 'attempt'>) {
    return sendMessage(ctx, client, payload.message_id, { final: ctx.attempt.final });
  },
});
