/**
 * Which functions a client's agent has, with their argument schemas and descriptions. Built-ins
 * are on by default (booking ones only with the booking feature, send_sms_link only with links and
 * SMS) and can be switched off in the client's `functions`; "static" and "http" entries add more.
 */
import { z } from 'zod';
import type { ResolvedClientConfig } from '../clients/client.schema.ts';
import { builtinFunctionNames, type BuiltinFunctionName, type FunctionEntry } from '../clients/client.schema.ts';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-12-01');
const phone = z.string().min(3).max(40).describe("Phone number, if different from the caller's number");

/** Argument schemas: loose on purpose (the LLM fills them), strict on types and sizes. */
export const BUILTIN_ARGS = {
  check_availability: z.object({
    date: isoDate.optional().describe('Preferred date, YYYY-MM-DD'),
    time_of_day: z.enum(['morning', 'afternoon', 'evening', 'any']).optional().describe('Preferred part of the day'),
    days_ahead: z.coerce.number().int().min(1).max(60).optional().describe('How many days ahead to look (default 7)'),
  }),
  book_appointment: z.object({
    name: z.string().min(1).max(200).describe("Caller's full name"),
    phone: phone.optional(),
    email: z.email().max(320).optional().describe("Caller's email, if given"),
    start: z.string().min(10).max(40).describe('Start time exactly as returned by check_availability (ISO 8601)'),
    reason: z.string().max(500).optional().describe('Reason for the visit'),
  }),
  find_appointment: z.object({ phone: phone.optional() }),
  reschedule_appointment: z.object({
    new_start: z.string().min(10).max(40).describe('New start time exactly as returned by check_availability (ISO 8601)'),
    appointment_id: z.uuid().optional(),
    phone: phone.optional(),
  }),
  cancel_appointment: z.object({ appointment_id: z.uuid().optional(), phone: phone.optional() }),
  get_business_info: z.object({
    topic: z.enum(['hours', 'address', 'services', 'faq', 'contact', 'all']).optional().describe('What the caller asks about'),
  }),
  take_message: z.object({
    name: z.string().min(1).max(200),
    phone: phone,
    message: z.string().min(1).max(4000),
    urgency: z.enum(['low', 'normal', 'urgent']).default('normal'),
  }),
  send_sms_link: z.object({ kind: z.string().min(1).max(41).describe('Which link to text, e.g. upload_page or intake_form') }),
} as const satisfies Record<BuiltinFunctionName, z.ZodType>;

export const BUILTIN_DESCRIPTIONS: Record<BuiltinFunctionName, string> = {
  check_availability: 'Find open appointment times. Offer the caller the spoken options; book with the exact start value.',
  book_appointment: "Book an appointment at one of the start times from check_availability. Uses the caller's number unless another is given.",
  find_appointment: "Look up the caller's upcoming appointment.",
  reschedule_appointment: "Move the caller's upcoming appointment to a new start time from check_availability.",
  cancel_appointment: "Cancel the caller's upcoming appointment.",
  get_business_info: 'Answer questions about opening hours, address, services and common questions.',
  take_message: 'Take a message for the business when the caller wants a call back.',
  send_sms_link: 'Text the caller a link (for example the document upload page or intake form).',
};

const BOOKING: readonly BuiltinFunctionName[] = ['check_availability', 'book_appointment', 'find_appointment', 'reschedule_appointment', 'cancel_appointment'];

export type EnabledFunction =
  | { kind: 'builtin'; name: BuiltinFunctionName; description: string }
  | Extract<FunctionEntry, { kind: 'static' | 'http' }>;

type CatalogConfig = Pick<ResolvedClientConfig, 'features' | 'business' | 'sms' | 'functions'>;

export function enabledFunctions(config: CatalogConfig): EnabledFunction[] {
  const overrides = new Map(config.functions.filter((f) => f.kind === 'builtin').map((f) => [f.name, f]));
  const builtins: EnabledFunction[] = [];
  for (const name of builtinFunctionNames) {
    const override = overrides.get(name);
    let on = override?.enabled ?? true;
    if (!override && BOOKING.includes(name)) on = config.features.booking;
    if (!override && name === 'send_sms_link') on = Object.keys(config.business.links).length > 0 && Boolean(config.sms?.enabled);
    if (on) builtins.push({ kind: 'builtin', name, description: override?.description ?? BUILTIN_DESCRIPTIONS[name] });
  }
  const custom = config.functions.filter((f): f is Extract<FunctionEntry, { kind: 'static' | 'http' }> => f.kind !== 'builtin');
  return [...builtins, ...custom];
}

export function findEnabledFunction(config: CatalogConfig, name: string): EnabledFunction | undefined {
  return enabledFunctions(config).find((f) => f.name === name);
}

/** JSON Schema of a function's arguments, for Retell tool definitions. */
export function parametersFor(fn: EnabledFunction): Record<string, unknown> {
  if (fn.kind === 'builtin') {
    const { $schema: _ignored, ...schema } = z.toJSONSchema(BUILTIN_ARGS[fn.name], { io: 'input' }) as Record<string, unknown>;
    return schema;
  }
  return fn.parameters ?? { type: 'object', properties: {} };
}
