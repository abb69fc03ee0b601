/**
 * The post-call workflow, started by call_ended and call_analyzed (either may arrive first).
 * - a text to the caller: a confirmation when an appointment was booked on the call, otherwise a
 *   follow-up (inbound, connected calls only);
 * - on call_analyzed: the summary email to the business, and optionally an email to the caller.
 * Each message has a key per (client, call, purpose), so whichever event comes first creates it
 * and a re-run or the other event never creates a second one.
 */
import { and, desc, eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { ServableClient } from '../clients/clients.service.ts';
import { defineEventHandler } from '../core/event-handler.ts';
import type { Deps } from '../deps.ts';
import { normalizePhone } from '../integrations/sms/sms.ts';
import { renderEmail, renderSms, templatesFor, type TemplateValues } from '../integrations/templates/templates.ts';
import { queueMessage } from '../messages/messages.service.ts';
import type { Tx } from '../platform/db/database.ts';
import { appointments, calls, customers, workflowRuns } from '../platform/db/schema.ts';

/** Disconnection reasons of calls nobody talked on: no text or caller email for those. */
const NOT_CONNECTED = new Set(['dial_busy', 'dial_failed', 'dial_no_answer', 'invalid_destination', 'voicemail_reached', 'ivr_reached', 'marked_as_spam', 'user_declined']);

function speakableTime(date: Date, timezone: string): string {
  return DateTime.fromJSDate(date, { zone: timezone }).toFormat("cccc, LLLL d 'at' h:mm a");
}

async function loadContext(tx: Tx, clientId: string, callId: string) {
  const [call] = await tx.select().from(calls).where(and(eq(calls.clientId, clientId), eq(calls.callId, callId)));
  if (!call) return undefined;
  const [customer] = call.customerId
    ? await tx.select().from(customers).where(and(eq(customers.clientId, clientId), eq(customers.id, call.customerId)))
    : [];
  const [appointment] = await tx
    .select()
    .from(appointments)
    .where(and(eq(appointments.clientId, clientId), eq(appointments.callId, callId), eq(appointments.status, 'booked')))
    .orderBy(desc(appointments.createdAt))
    .limit(1);
  return { call, customer, appointment };
}

export async function runPostCallWorkflow(client: ServableClient, callId: string, trigger: string, triggerEventId: string, deps: Pick<Deps, 'tenancy' | 'queue'>) {
  const { config } = client;
  const templates = templatesFor(config);
  return deps.tenancy.withTenant(client.id, async (tx) => {
    const context = await loadContext(tx, client.id, callId);
    if (!context) throw new Error(`call ${callId} not found`);
    const { call, customer, appointment } = context;
    const values: TemplateValues = {
      business_name: config.name,
      customer_name: appointment?.customerName ?? customer?.name ?? 'there',
      caller_phone: customer?.phone ?? call.fromNumber ?? '',
      call_time: call.startedAt ? speakableTime(call.startedAt, config.timezone) : '',
      appointment_time: appointment ? speakableTime(appointment.startsAt, config.timezone) : '',
      call_summary: call.summary ?? '',
      sentiment: call.sentiment ?? '',
      transcript: call.transcript ?? '',
      recording_url: call.recordingUrl ?? '',
    };
    const queued: Record<string, string> = {};
    const connected = call.status !== 'not_connected' && call.status !== 'error' && !NOT_CONNECTED.has(call.disconnectionReason ?? '');

    // Text the caller.
    const callerPhone = call.direction === 'inbound' && call.fromNumber ? normalizePhone(call.fromNumber, config.sms?.default_country ?? 'US') : undefined;
    const smsKind = appointment ? 'confirmation' : 'followup';
    const smsWanted = appointment ? config.features.booking || config.features.sms_followup : config.features.sms_followup;
    if (config.sms?.enabled && smsWanted && connected && callerPhone) {
      const body = renderSms(templates, smsKind, values).text;
      const { message } = await queueMessage(
        tx,
        client,
        { channel: 'sms', kind: smsKind, idempotencyKey: `call:${callId}:sms:caller`, callId, customerId: customer?.id ?? null, to: callerPhone, body, optedOut: Boolean(customer?.optedOutAt) },
        deps.queue,
      );
      queued.sms = message.id;
    }

    if (trigger === 'call_analyzed' && config.email?.enabled) {
      const businessEmail = config.notifications.business_email;
      if (config.features.email_summary && businessEmail) {
        const email = renderEmail(templates, 'summary', values);
        const { message } = await queueMessage(
          tx,
          client,
          { channel: 'email', kind: 'summary', idempotencyKey: `call:${callId}:email:summary`, callId, customerId: customer?.id ?? null, to: businessEmail, subject: email.subject, body: email.text, html: email.html },
          deps.queue,
        );
        queued.summary = message.id;
      }
      const callerEmail = appointment?.customerEmail ?? customer?.email;
      if (config.features.caller_email && callerEmail && connected) {
        const email = renderEmail(templates, 'caller_followup', values);
        const { message } = await queueMessage(
          tx,
          client,
          { channel: 'email', kind: 'caller_email', idempotencyKey: `call:${callId}:email:caller`, callId, customerId: customer?.id ?? null, to: callerEmail, subject: email.subject, body: email.text, html: email.html },
          deps.queue,
        );
        queued.caller_email = message.id;
      }
    }

    await tx
      .insert(workflowRuns)
      .values({ clientId: client.id, callId, kind: `post_call:${trigger}`, status: 'completed', detail: { trigger_event_id: triggerEventId, messages: queued } })
      .onConflictDoNothing({ target: [workflowRuns.clientId, workflowRuns.callId, workflowRuns.kind] });
    return queued;
  });
}

export const postCallWorkflow = defineEventHandler('post-call', async (client, event, deps) => {
  await runPostCallWorkflow(client, event.callId, event.event, event.id, deps);
});
