/**
 * Sends one stored message. Never sends twice: the row is claimed (pending → sending) before the
 * provider is called, and a row found already "sending" means an earlier attempt died mid-call,
 * so its outcome is unknown: it is reconciled through the provider's lookup where there is one,
 * and otherwise marked `unknown` for staff rather than resent blindly.
 */
import { isServable, type ServableClient } from '../clients/client.schema.ts';
import type { Deps } from '../deps.ts';
import { emailSenderFor } from '../integrations/email/email.ts';
import { isOptOutError, smsSenderFor, type SmsSender } from '../integrations/sms/sms.ts';
import { ProviderError } from '../platform/provider-http.ts';
import { PermanentJobError } from '../platform/queue.ts';
import { changeOptOut } from '../customers/customers.service.ts';
import { integrationHealthFor } from '../integrations/integration-health.ts';
import { claimForSending, findMessage, settleMessage, type MessageRow } from './messages.repo.ts';
import { publicUrls } from '../platform/public-urls.ts';

export type SendOutcome = 'sent' | 'failed' | 'unknown' | 'suppressed' | 'skipped' | 'retry';

/** Allow for clock skew between us and the provider when looking for an earlier attempt. */
const LOOKUP_SKEW_MS = 5 * 60_000;

function smsSender(client: ServableClient, deps: Deps): SmsSender {
  return smsSenderFor(client, deps.providers);
}

async function reconcile(client: ServableClient, message: MessageRow, deps: Deps): Promise<SendOutcome> {
  const sender = message.channel === 'sms' ? smsSender(client, deps) : undefined;
  if (!sender?.lookup) {
    await deps.tenancy.withTenant(client.id, (tx) =>
      settleMessage(tx, client.id, message.id, { status: 'unknown', errorCode: 'ambiguous', errorMessage: 'the provider may have sent it; not resent' }),
    );
    return 'unknown';
  }
  const found = await sender.lookup({ to: message.toAddress, body: message.body, sentAfter: new Date(message.updatedAt.getTime() - LOOKUP_SKEW_MS) });
  if (found) {
    await deps.tenancy.withTenant(client.id, (tx) => settleMessage(tx, client.id, message.id, { status: 'sent', providerMessageId: found.providerMessageId }));
    return 'sent';
  }
  // The provider has no such message: the earlier attempt never went out, so sending is safe.
  await deps.tenancy.withTenant(client.id, (tx) => settleMessage(tx, client.id, message.id, { status: 'pending', errorCode: 'reconciled_not_sent' }));
  return 'retry';
}

async function deliver(client: ServableClient, message: MessageRow, deps: Deps): Promise<{ providerMessageId?: string }> {
  if (message.channel === 'sms') {
    const statusCallbackUrl = client.config.sms?.provider === 'twilio' ? publicUrls(deps.config.publicBaseUrl).twilioStatusCallback(client.id) : undefined;
    return smsSender(client, deps).send({ to: message.toAddress, body: message.body, reference: message.id, ...(statusCallbackUrl ? { statusCallbackUrl } : {}) });
  }
  return emailSenderFor(client, deps.providers, { zohoTokenCache: deps.cache }).send({
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

export async function sendMessage(deps: Deps, clientId: string, messageId: string, attempt: SendAttempt = { final: false }): Promise<SendOutcome> {
  const record = deps.registry.get(clientId);
  // Unknown to this instance (a config change still on its way): retry later, never drop the message.
  if (!record) throw new Error(`client ${clientId} is not configured on this instance`);
  if (record.status === 'disabled') return 'skipped';
  if (!isServable(record)) throw new Error(`client ${clientId} configuration is invalid`);
  const client = record;

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
  try {
    const result = await deliver(client, claimed, deps);
    await deps.tenancy.withTenant(clientId, (tx) => settleMessage(tx, clientId, messageId, { status: 'sent', providerMessageId: result.providerMessageId ?? null }));
    await health.ok(provider);
    return 'sent';
  } catch (error) {
    const giveUp = async (fields: { errorCode: string; errorMessage: string }): Promise<SendOutcome> => {
      await deps.tenancy.withTenant(clientId, (tx) =>
        settleMessage(tx, clientId, messageId, { status: 'failed', errorCode: fields.errorCode, errorMessage: `gave up after ${claimed.attempts} attempts: ${fields.errorMessage}` }),
      );
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
      await deps.tenancy.withTenant(clientId, async (tx) => {
        await settleMessage(tx, clientId, messageId, { status: 'suppressed', ...fields });
        if (claimed.customerId) await changeOptOut(tx, clientId, claimed.customerId, true);
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
    await deps.tenancy.withTenant(clientId, (tx) => settleMessage(tx, clientId, messageId, { status: 'failed', ...fields }));
    await health.failed(provider, error, `update the ${claimed.channel === 'sms' ? 'SMS' : 'email'} settings of this client.`);
    return 'failed';
  }
}
