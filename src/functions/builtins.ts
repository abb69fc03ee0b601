/**
 * The agent's built-in functions. Each takes the client first, validated arguments and the call
 * context, and returns a speakable `result` plus data; expected outcomes (slot taken, nothing
 * found) are results, not errors.
 */
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { z } from 'zod';
import type { ServableClient } from '../clients/client.schema.ts';
import type { BuiltinFunctionName } from '../clients/client.schema.ts';
import type { FunctionContext } from './function-context.ts';
import type { Appointment, Slot } from '../integrations/calendar/calendar.service.ts';
import { speakSlots } from '../integrations/calendar/slots.ts';
import { defaultCountryOf } from '../clients/client.schema.ts';
import { displayNameOf } from '../clients/branding.ts';
import { toE164 } from '../customers/phone.ts';
import { renderEmail, renderSms, templatesFor, templateTime } from '../integrations/templates/templates.ts';
import { queueMessage, recordUnsentMessage } from '../messages/messages.service.ts';
import { isOptedOut, setCustomerContact, upsertCustomer } from '../customers/customers.service.ts';
import type { BUILTIN_ARGS } from './function-catalog.ts';
import { describeHours, isOpenAt } from './business-hours.ts';

export interface FunctionCallContext {
  callId: string | null;
  /** The caller's number as Retell gave it (call.from_number), if any. */
  fromNumber: string | null;
  now: Date;
}

export interface FunctionReply {
  /** What the agent says. */
  result: string;
  [key: string]: unknown;
}

/** A failure the agent should apologise for; `code` goes back in the reply and the log. */
export class FunctionFailure extends Error {
  readonly code: string;
  readonly speakable: string;
  constructor(code: string, speakable: string) {
    super(speakable);
    this.code = code;
    this.speakable = speakable;
  }
}

type Args<N extends BuiltinFunctionName> = z.output<(typeof BUILTIN_ARGS)[N]>;
type Builtin<N extends BuiltinFunctionName> = (client: ServableClient, args: Args<N>, ctx: FunctionCallContext, deps: FunctionContext) => Promise<FunctionReply>;

function spokenSlots(client: ServableClient, slots: readonly Slot[], now: Date) {
  return slots.map((slot) => ({ start: slot.start, end: slot.end, spoken: speakSlots([slot], client.config.timezone, now) }));
}

/** "a, b, or c" from already spoken slots (speaking a slot is the costly part: luxon zone math). */
function joinSpoken(spoken: readonly { spoken: string }[]): string {
  const phrases = spoken.map((s) => s.spoken);
  if (phrases.length <= 2) return phrases.join(' or ');
  return `${phrases.slice(0, -1).join(', ')}, or ${phrases.at(-1) ?? ''}`;
}

/** An appointment's time as the agent says it and the texts show it (slots carry their offset). */
function spokenTime(client: ServableClient, iso: string): string {
  return templateTime(new Date(iso), client.config.timezone);
}

function callerPhone(client: ServableClient, given: string | undefined, ctx: FunctionCallContext): string | undefined {
  const raw = given ?? ctx.fromNumber ?? undefined;
  return toE164(raw, defaultCountryOf(client.config));
}

function requirePhone(client: ServableClient, given: string | undefined, ctx: FunctionCallContext): string {
  const phone = callerPhone(client, given, ctx);
  if (!phone) throw new FunctionFailure('invalid_phone', "I couldn't read that phone number. Could you say it again, digit by digit?");
  return phone;
}

async function upcomingFor(client: ServableClient, phone: string, deps: FunctionContext): Promise<Appointment | undefined> {
  const upcoming = await deps.adapters.calendarFor(client).findUpcoming({ phone });
  return upcoming[0];
}

const checkAvailability: Builtin<'check_availability'> = async (client, args, ctx, deps) => {
  const from = args.date ? DateTime.fromISO(args.date, { zone: client.config.timezone }).startOf('day') : undefined;
  if (from && !from.isValid) throw new FunctionFailure('invalid_date', "I didn't catch the date. Which day would you like?");
  const slots = await deps.adapters.calendarFor(client).findSlots({
    ...(from ? { from: from.toJSDate(), days: 1 } : { days: args.days_ahead ?? 7 }),
    ...(args.time_of_day ? { timeOfDay: args.time_of_day } : {}),
    limit: 5,
  });
  if (slots.length === 0) {
    return { result: from ? "I don't see any openings that day. Would another day work?" : "I don't see any openings in the next few days. I can take a message and have someone call you back.", slots: [] };
  }
  const spoken = spokenSlots(client, slots, ctx.now);
  return { result: `I have ${joinSpoken(spoken)}. Which works best?`, slots: spoken };
};

/** The confirmation text goes out once per call, whichever of booking and post-call gets there first. */
async function queueConfirmation(
  client: ServableClient,
  appointment: Appointment,
  phone: string,
  customerId: string,
  ctx: FunctionCallContext,
  deps: FunctionContext,
): Promise<{ status: string; body: string } | undefined> {
  const { config } = client;
  if (!config.sms?.enabled || !(config.features.booking || config.features.sms_followup)) return undefined;
  const body = renderSms(templatesFor(config), 'confirmation', {
    business_name: displayNameOf(config),
    customer_name: appointment.customerName ?? 'there',
    appointment_time: spokenTime(client, appointment.start),
    caller_phone: phone,
  }).text;
  return deps.tenancy.withTenant(client.id, async (tx) => {
    const optedOut = await isOptedOut(tx, client.id, customerId);
    const { message } = await queueMessage(
      tx,
      client,
      {
        channel: 'sms',
        kind: 'confirmation',
        idempotencyKey: ctx.callId ? `call:${ctx.callId}:sms:caller` : `appointment:${appointment.id}:sms:confirmation`,
        callId: ctx.callId,
        customerId,
        to: phone,
        body,
        optedOut,
      },
      deps,
    );
    return { status: message.status, body: message.body };
  });
}

const bookAppointment: Builtin<'book_appointment'> = async (client, args, ctx, deps) => {
  const phone = requirePhone(client, args.phone, ctx);
  const customerId = await deps.tenancy.withTenant(client.id, async (tx) => {
    const id = await upsertCustomer(tx, client.id, phone, ctx.now);
    await setCustomerContact(tx, client.id, id, { name: args.name, email: args.email });
    return id;
  });
  const outcome = await deps.adapters.calendarFor(client).book({
    ...(ctx.callId ? { callId: ctx.callId } : {}),
    start: args.start,
    name: args.name,
    phone,
    ...(args.email ? { email: args.email } : {}),
    ...(args.reason ? { reason: args.reason } : {}),
    customerId,
  });
  switch (outcome.status) {
    case 'booked': {
      const confirmation = await queueConfirmation(client, outcome.appointment, phone, customerId, ctx, deps);
      return {
        result: `You're all set for ${spokenTime(client, outcome.appointment.start)}.${confirmation && confirmation.status !== 'suppressed' ? " You'll get a text confirmation shortly." : ''}`,
        booked: true,
        appointment_id: outcome.appointment.id,
        start: outcome.appointment.start,
        // Test clients send nothing: the rendered text is shown instead (e.g. by `xlnc simulate-call`).
        ...(confirmation ? { confirmation_sms: confirmation.status === 'sandbox' ? confirmation : { status: confirmation.status } } : {}),
      };
    }
    case 'slot_taken':
    case 'outside_hours':
    case 'invalid_time': {
      const lead =
        outcome.status === 'slot_taken' ? 'That time was just taken.' : outcome.status === 'outside_hours' ? "We're not open then." : "That time isn't available.";
      const offer = outcome.alternatives.length > 0 ? ` I can offer ${speakSlots(outcome.alternatives, client.config.timezone, ctx.now)}.` : ' Would another day work?';
      return { result: `${lead}${offer}`, booked: false, reason: outcome.status, slots: spokenSlots(client, outcome.alternatives, ctx.now) };
    }
  }
};

const findAppointment: Builtin<'find_appointment'> = async (client, args, ctx, deps) => {
  const phone = requirePhone(client, args.phone, ctx);
  const next = await upcomingFor(client, phone, deps);
  if (!next) return { result: "I don't see an upcoming appointment under that number.", found: false };
  return { result: `You have an appointment on ${spokenTime(client, next.start)}.`, found: true, appointment_id: next.id, start: next.start };
};

async function appointmentToChange(client: ServableClient, args: { appointment_id?: string | undefined; phone?: string | undefined }, ctx: FunctionCallContext, deps: FunctionContext): Promise<string | undefined> {
  if (args.appointment_id) return args.appointment_id;
  return (await upcomingFor(client, requirePhone(client, args.phone, ctx), deps))?.id;
}

const rescheduleAppointment: Builtin<'reschedule_appointment'> = async (client, args, ctx, deps) => {
  const id = await appointmentToChange(client, args, ctx, deps);
  if (!id) return { result: "I don't see an upcoming appointment to move under that number.", rescheduled: false };
  const outcome = await deps.adapters.calendarFor(client).reschedule(id, args.new_start);
  switch (outcome.status) {
    case 'booked':
      return { result: `Done. Your appointment is now ${spokenTime(client, outcome.appointment.start)}.`, rescheduled: true, appointment_id: outcome.appointment.id, start: outcome.appointment.start };
    case 'not_found':
      return { result: "I couldn't find that appointment.", rescheduled: false };
    case 'is_cancelled':
      return { result: 'That appointment was cancelled. Would you like to book a new one?', rescheduled: false };
    case 'past':
      return { result: `That appointment on ${spokenTime(client, outcome.appointment.start)} has already passed. Would you like to book a new one?`, rescheduled: false };
    case 'slot_taken':
    case 'outside_hours':
    case 'invalid_time':
      return {
        result: `That time isn't available.${outcome.alternatives.length > 0 ? ` I can offer ${speakSlots(outcome.alternatives, client.config.timezone, ctx.now)}.` : ''}`,
        rescheduled: false,
        slots: spokenSlots(client, outcome.alternatives, ctx.now),
      };
  }
};

const cancelAppointment: Builtin<'cancel_appointment'> = async (client, args, ctx, deps) => {
  const id = await appointmentToChange(client, args, ctx, deps);
  if (!id) return { result: "I don't see an upcoming appointment under that number.", cancelled: false };
  const outcome = await deps.adapters.calendarFor(client).cancel(id);
  if (outcome.status === 'not_found') return { result: "I couldn't find that appointment.", cancelled: false };
  if (outcome.status === 'past') return { result: `That appointment on ${spokenTime(client, outcome.appointment.start)} has already passed.`, cancelled: false };
  return { result: `Your appointment on ${spokenTime(client, outcome.appointment.start)} is cancelled.`, cancelled: true, appointment_id: outcome.appointment.id };
};

const getBusinessInfo: Builtin<'get_business_info'> = async (client, args, ctx) => {
  const { config } = client;
  const { business } = config;
  const parts: Record<string, string> = {
    hours: `${describeHours(config)} ${isOpenAt(config, ctx.now) ? "We're open right now." : "We're closed right now."}`,
    address: business.address ? `We're at ${business.address}.` : "I don't have the address on hand.",
    services: business.services.length > 0 ? `We offer ${business.services.join(', ')}.` : '',
    faq: business.faqs.map((f) => `${f.question} ${f.answer}`).join(' '),
    contact: [business.phone ? `You can reach us at ${business.phone}.` : '', business.website ? `Our website is ${business.website}.` : ''].filter(Boolean).join(' '),
  };
  const topic = args.topic ?? 'all';
  const result = topic === 'all' ? Object.values(parts).filter(Boolean).join(' ') : parts[topic] || "I don't have that information, but I can take a message.";
  return { result, business_name: config.name };
};

const takeMessage: Builtin<'take_message'> = async (client, args, ctx, deps) => {
  const { config } = client;
  const phone = callerPhone(client, args.phone, ctx) ?? args.phone;
  // Retell may call twice when the caller interrupts: the same message on the same call is kept once.
  const digest = createHash('sha256').update(JSON.stringify([args.name, phone, args.message])).digest('hex').slice(0, 16);
  const key = `call:${ctx.callId ?? 'none'}:message:${digest}`;
  const email = renderEmail(templatesFor(config), 'message_taken', {
    business_name: displayNameOf(config),
    customer_name: args.name,
    caller_phone: phone,
    message: args.message,
    urgency: args.urgency,
    call_time: templateTime(ctx.now, config.timezone),
  });
  const to = config.notifications.business_email;
  await deps.tenancy.withTenant(client.id, async (tx) => {
    const customerId = toE164(phone, defaultCountryOf(config)) ? await upsertCustomer(tx, client.id, phone, ctx.now) : null;
    if (config.email?.enabled && to) {
      await queueMessage(tx, client, { channel: 'email', kind: 'message_taken', idempotencyKey: key, callId: ctx.callId, customerId, to, subject: email.subject, body: email.text, html: email.html }, deps);
    } else {
      // No email channel: the message is still stored (and shown in the client API), just not emailed.
      await recordUnsentMessage(tx, client.id, {
        callId: ctx.callId,
        customerId,
        channel: 'email',
        kind: 'message_taken',
        idempotencyKey: key,
        provider: 'none',
        toAddress: to ?? '',
        subject: email.subject,
        body: email.text,
        html: email.html,
        status: 'suppressed',
        errorCode: 'no_email_channel',
      });
    }
  });
  return { result: `Thanks, ${args.name}. I've passed your message on${args.urgency === 'urgent' ? ' and marked it urgent' : ''}; someone will get back to you.`, taken: true };
};

const sendSmsLink: Builtin<'send_sms_link'> = async (client, args, ctx, deps) => {
  const { config } = client;
  const url = config.business.links[args.kind];
  if (!url) throw new FunctionFailure('unknown_link', "I'm sorry, I don't have that link to send.");
  const phone = requirePhone(client, undefined, ctx);
  const body = renderSms(templatesFor(config), 'link', { business_name: displayNameOf(config), link_url: url, customer_name: 'there' }).text;
  const sent = await deps.tenancy.withTenant(client.id, async (tx) => {
    const customerId = await upsertCustomer(tx, client.id, phone, ctx.now);
    const optedOut = await isOptedOut(tx, client.id, customerId);
    const { message } = await queueMessage(
      tx,
      client,
      { channel: 'sms', kind: 'link', idempotencyKey: `call:${ctx.callId ?? 'none'}:sms:link:${args.kind}`, callId: ctx.callId, customerId, to: phone, body, optedOut },
      deps,
    );
    return message.status !== 'suppressed';
  });
  if (!sent) return { result: "I can't text that number because it has opted out of messages from us.", sent: false };
  return { result: "I've texted you the link.", sent: true };
};

export const BUILTINS: { [N in BuiltinFunctionName]: Builtin<N> } = {
  check_availability: checkAvailability,
  book_appointment: bookAppointment,
  find_appointment: findAppointment,
  reschedule_appointment: rescheduleAppointment,
  cancel_appointment: cancelAppointment,
  get_business_info: getBusinessInfo,
  take_message: takeMessage,
  send_sms_link: sendSmsLink,
};
