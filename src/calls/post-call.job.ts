/**
 * The post-call workflow, started by call_ended and call_analyzed (either may arrive first).
 * - a text to the caller: a confirmation when an appointment was booked on the call, otherwise a
 *   follow-up (inbound, connected calls only);
 * - on call_analyzed: the summary email to the business, and optionally an email to the caller.
 *   Retell may never send call_analyzed (analysis off, an outage): call_ended schedules a fallback
 *   that sends those emails without the analysis after `notifications.summary_wait_minutes`.
 * - `call.completed`, once per call: from the call_analyzed run (with the analysis) or from the
 *   fallback (without it), whichever comes first. The fallback is scheduled for every call, so
 *   every call completes even for a client without email.
 * Each message has a key per (client, call, purpose), so whichever run comes first creates it and
 * a re-run, the other event or the fallback never creates a second one.
 */
import { and, desc, eq } from 'drizzle-orm';
import { defineEventJob } from '../core/event-job.ts';
import type { JobContext } from '../core/jobs.ts';
import { displayNameOf } from '../clients/branding.ts';
import { defaultCountryOf, type ServableClient } from '../clients/client.schema.ts';
import { toE164 } from '../customers/phone.ts';
import { renderEmail, renderSms, templatesFor, templateTime, type TemplateValues } from '../integrations/templates/templates.ts';
import { queueMessage } from '../messages/messages.service.ts';
import type { Tx } from '../platform/db/database.ts';
import { appointments, calls, customers } from '../platform/db/schema.ts';
import { callReached, inVoicemailOf, isConnected } from './call-connection.ts';
import { recordWorkflowRun } from './calls.repo.ts';
import { ensureCallStarted } from './calls.service.ts';

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

export type PostCallContext = Pick<JobContext, 'tenancy' | 'queue' | 'events'>;

export async function runPostCallWorkflow(client: ServableClient, callId: string, trigger: string, triggerEventId: string, deps: PostCallContext) {
  const { config } = client;
  const templates = templatesFor(config);
  return deps.tenancy.withTenant(client.id, async (tx) => {
    const context = await loadContext(tx, client.id, callId);
    if (!context) throw new Error(`call ${callId} not found`);
    const { call, customer, appointment } = context;
    const values: TemplateValues = {
      business_name: displayNameOf(config),
      customer_name: appointment?.customerName ?? customer?.name ?? 'there',
      caller_phone: customer?.phone ?? call.fromNumber ?? '',
      call_time: call.startedAt ? templateTime(call.startedAt, config.timezone) : '',
      appointment_time: appointment ? templateTime(appointment.startsAt, config.timezone) : '',
      call_summary: call.summary ?? '',
      sentiment: call.sentiment ?? '',
      transcript: call.transcript ?? '',
      recording_url: call.recordingUrl ?? '',
    };
    const queued: Record<string, string> = {};
    const facts = { status: call.status, disconnectionReason: call.disconnectionReason, inVoicemail: inVoicemailOf(call.analysis), durationMs: call.durationMs };
    const connected = isConnected(facts);

    // Text the caller.
    const callerPhone = call.direction === 'inbound' && call.fromNumber ? toE164(call.fromNumber, defaultCountryOf(config)) : undefined;
    const smsKind = appointment ? 'confirmation' : 'followup';
    const smsWanted = appointment ? config.features.booking || config.features.sms_followup : config.features.sms_followup;
    if (config.sms?.enabled && smsWanted && connected && callerPhone) {
      const body = renderSms(templates, smsKind, values).text;
      const { message } = await queueMessage(
        tx,
        client,
        { channel: 'sms', kind: smsKind, idempotencyKey: `call:${callId}:sms:caller`, callId, customerId: customer?.id ?? null, to: callerPhone, body, optedOut: Boolean(customer?.optedOutAt) },
        deps,
      );
      queued.sms = message.id;
    }

    if (trigger === 'call_ended') {
      await deps.queue.enqueue(
        postCallFallback,
        { client_id: client.id, call_id: callId, event: 'call_ended', event_id: triggerEventId },
        { tx, key: `${client.id}:${callId}:${postCallFallback.kind}`, startAfterSeconds: config.notifications.summary_wait_minutes * 60 },
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
          deps,
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
          deps,
        );
        queued.caller_email = message.id;
      }
    }

    if (trigger === 'call_analyzed' || trigger === SUMMARY_FALLBACK) {
      await ensureCallStarted(tx, deps.events, client.id, callId);
      await deps.events.emit(
        tx,
        client.id,
        'call.completed',
        {
          call_id: callId,
          connection: connected ? 'connected' : callReached(facts) === 'voicemail' ? 'voicemail' : 'no_answer',
          with_analysis: trigger === 'call_analyzed',
          duration_ms: call.durationMs,
          disconnection_reason: call.disconnectionReason,
          ended_at: call.endedAt ? call.endedAt.toISOString() : null,
        },
        { key: `call:${callId}:completed`, ...(call.endedAt ? { occurredAt: call.endedAt } : {}) },
      );
    }
    await recordWorkflowRun(tx, client.id, { callId, kind: `post_call:${trigger}`, detail: { trigger_event_id: triggerEventId, messages: queued } });
    return queued;
  });
}

export const postCallWorkflow = defineEventJob('post-call', async (client, payload, ctx: PostCallContext) => {
  await runPostCallWorkflow(client, payload.call_id, payload.event, payload.event_id, ctx);
});

/** Not routed from an event: scheduled by call_ended's run (see SUMMARY_FALLBACK). */
export const postCallFallback = defineEventJob('post-call-fallback', async (client, payload, ctx: PostCallContext) => {
  await runPostCallWorkflow(client, payload.call_id, SUMMARY_FALLBACK, payload.event_id, ctx);
});

