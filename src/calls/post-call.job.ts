/**
 * The post-call workflow, started by call_ended and call_analyzed (either may arrive first).
 * - a text to the caller: a confirmation when an appointment was booked on the call, otherwise a
 *   follow-up (inbound, connected calls only);
 * - on call_analyzed: the summary email to the business, and optionally an email to the caller.
 *   Retell may never send call_analyzed (analysis off, an outage): call_ended schedules a fallback
 *   that sends those emails without the analysis after `notifications.summary_wait_minutes`.
 * Each message has a key per (client, call, purpose), so whichever run comes first creates it and
 * a re-run, the other event or the fallback never creates a second one.
 */
import type { ServableClient } from '../clients/client.schema.ts';
import { and, desc, eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { defineEventHandler } from '../core/event-handler.ts';
import type { Deps } from '../deps.ts';
import { normalizePhone } from '../integrations/sms/sms.ts';
import { renderEmail, renderSms, templatesFor, type TemplateValues } from '../integrations/templates/templates.ts';
import { queueMessage } from '../messages/messages.service.ts';
import type { Tx } from '../platform/db/database.ts';
import { appointments, calls, customers } from '../platform/db/schema.ts';
import { recordWorkflowRun } from './calls.repo.ts';

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

/** The trigger of the fallback run: call_ended's event, `summary_wait_minutes` later. */
export const SUMMARY_FALLBACK = 'summary_fallback';

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

    const emailsWanted = Boolean(config.email?.enabled && (config.features.email_summary || config.features.caller_email));
    if (trigger === 'call_ended' && emailsWanted) {
      await deps.queue.enqueue(
        summaryFallback.job,
        { client_id: client.id, call_id: callId, event: 'call_ended', event_id: triggerEventId },
        { tx, key: `${client.id}:${callId}:${summaryFallback.kind}`, startAfterSeconds: config.notifications.summary_wait_minutes * 60 },
      );
    }

    if ((trigger === 'call_analyzed' || trigger === SUMMARY_FALLBACK) && config.email?.enabled) {
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

    await recordWorkflowRun(tx, client.id, { callId, kind: `post_call:${trigger}`, detail: { trigger_event_id: triggerEventId, messages: queued } });
    return queued;
  });
}

export const postCallWorkflow = defineEventHandler('post-call', async (client, event, deps) => {
  await runPostCallWorkflow(client, event.callId, event.event, event.id, deps);
});

/** Not routed from an event: scheduled by call_ended's run (see SUMMARY_FALLBACK). */
export const summaryFallback = defineEventHandler('post-call-fallback', async (client, event, deps) => {
  await runPostCallWorkflow(client, event.callId, SUMMARY_FALLBACK, event.id, deps);
});
