/**
 * Twilio's callbacks for a client that sends through Twilio, verified with X-Twilio-Signature and
 * that client's auth token over the public URL Twilio called (rebuilt from PUBLIC_BASE_URL):
 * - POST /api/webhooks/twilio/:clientId/status   delivery status of a message we sent
 * - POST /api/webhooks/twilio/:clientId/inbound  a text from a customer (STOP / START keywords)
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ServableClient } from '../../clients/client.schema.ts';
import { requireServableClient } from '../../clients/clients.service.ts';
import type { Deps } from '../../deps.ts';
import { defaultCountryOf } from '../../clients/client.schema.ts';
import { toE164 } from '../../customers/phone.ts';
import { verifyTwilioSignature } from '../../integrations/sms/twilio.ts';
import { recordDeliveryStatus } from '../../messages/messages.service.ts';
import { changeOptOut, upsertCustomer } from '../../customers/customers.service.ts';
import { AppError } from '../../platform/errors.ts';
import { assertValidInput } from '../../platform/input-rules.ts';
import { rawBodyParsing } from '../retell/webhooks.routes.ts';
import { publicUrls } from '../../platform/public-urls.ts';

const params = z.object({ clientId: z.string().min(1).max(100) });

/** Carrier keywords (CTIA): opt out, and opt back in. */
const STOP_WORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE']);
const START_WORDS = new Set(['START', 'UNSTOP', 'YES', 'OPTIN']);

const DELIVERY: Record<string, 'sent' | 'delivered' | 'failed' | undefined> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'failed',
  failed: 'failed',
};

function verified(deps: Deps, request: FastifyRequest): { client: ServableClient; form: Record<string, string> } {
  const { clientId } = params.parse(request.params);
  // A client that does not send through Twilio has no Twilio webhook: the caller, not yet
  // authenticated, gets the same answer as for a client that does not exist.
  const notHere = new AppError('unknown_client', `Unknown client ${clientId}`);
  const record = deps.registry.get(clientId);
  if (record?.config && record.config.sms?.provider !== 'twilio') throw notHere;
  const client = requireServableClient(deps.registry, clientId);
  const sms = client.config.sms;
  if (sms?.provider !== 'twilio') throw notHere;
  const raw = request.body instanceof Buffer ? request.body.toString('utf8') : '';
  const form: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(raw)) form[key] = value;
  const header = request.headers['x-twilio-signature'];
  const url = publicUrls(deps.config.publicBaseUrl).ofRequest(request.url);
  if (!verifyTwilioSignature(sms.auth_token, url, form, typeof header === 'string' ? header : undefined)) {
    throw new AppError('invalid_signature', 'Missing or invalid X-Twilio-Signature');
  }
  if (form.AccountSid !== undefined && form.AccountSid !== sms.account_sid) {
    throw new AppError('forbidden', 'AccountSid does not belong to this client');
  }
  assertValidInput(form, 'body');
  return { client, form };
}

export function twilioWebhookRoutes(deps: Deps): FastifyPluginAsync {
  return async (app) => {
    await rawBodyParsing(app, {});

    app.post('/:clientId/status', async (request, reply) => {
      const { client, form } = verified(deps, request);
      const sid = form.MessageSid ?? form.SmsSid;
      const status = DELIVERY[form.MessageStatus ?? form.SmsStatus ?? ''];
      if (!sid) throw new AppError('invalid_payload', 'MessageSid: required');
      if (status) {
        const found = await deps.tenancy.withTenant(client.id, (tx) => recordDeliveryStatus(tx, deps.events, client.id, sid, status, form.ErrorCode ?? null));
        if (!found) request.log.warn({ client_id: client.id, sid }, 'status callback for an unknown message');
      }
      return reply.code(204).send();
    });

    app.post('/:clientId/inbound', async (request, reply) => {
      const { client, form } = verified(deps, request);
      const from = toE164(form.From, defaultCountryOf(client.config));
      const word = (form.Body ?? '').trim().toUpperCase();
      if (from && (STOP_WORDS.has(word) || START_WORDS.has(word))) {
        const optOut = STOP_WORDS.has(word);
        await deps.tenancy.withTenant(client.id, async (tx) => {
          const customerId = await upsertCustomer(tx, client.id, from, new Date());
          await changeOptOut(tx, client.id, customerId, optOut, { events: deps.events, source: 'sms_keyword' });
        });
        request.log.info({ client_id: client.id, opted_out: optOut }, 'sms keyword');
      }
      // Empty TwiML: Twilio itself answers STOP/START with its standard replies.
      return reply.code(200).type('text/xml').send('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    });
  };
}
