/**
 * The answer to `call_inbound`: the client's business context and availability as Retell dynamic
 * variables (strings only), and the concurrency decision. The caller hears ringing while we
 * answer, so every lookup has a budget and a fallback: this never fails the call.
 */
import { sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { ServableClient } from '../clients/client.schema.ts';
import type { FunctionContext } from './function-context.ts';
import { speakSlots } from '../integrations/calendar/slots.ts';
import { defaultCountryOf } from '../clients/client.schema.ts';
import { toE164 } from '../customers/phone.ts';
import { sqlRows } from '../platform/db/database.ts';
import { withDeadline } from '../platform/deadline.ts';
import { findCustomerByPhone } from '../customers/customers.service.ts';
import type { CallInbound } from '../webhooks/retell/retell-events.schemas.ts';
import { hoursToday, isOpenAt } from './business-hours.ts';

/** Availability must be known within this, or the agent offers a callback instead. */
export const AVAILABILITY_BUDGET_MS = 1_500;
/** A call counts as active from call_started until call_ended, or for at most this long. */
export const ACTIVE_CALL_STALE_MINUTES = 30;

export type InboundDecision = 'accepted' | 'over_capacity' | 'overflow_agent' | 'rejected';

export interface InboundResponse {
  call_inbound: {
    reject?: true;
    override_agent_id?: string;
    dynamic_variables?: Record<string, string>;
    metadata?: Record<string, unknown>;
  };
}

const TIMED_OUT: unique symbol = Symbol('timed out');

const within = <T>(ms: number, work: () => Promise<T>): Promise<T | typeof TIMED_OUT> => withDeadline(work, ms, () => TIMED_OUT);

export async function activeCalls(deps: FunctionContext, clientId: string): Promise<number> {
  const [row] = await deps.tenancy.withTenant(clientId, (tx) =>
    sqlRows<{ n: number }>(
      tx,
      sql`select count(*)::int as n from calls
           where client_id = ${clientId} and lifecycle_rank < 2 and ended_at is null
             and started_at > now() - make_interval(mins => ${ACTIVE_CALL_STALE_MINUTES})`,
    ),
  );
  return row?.n ?? 0;
}

async function availability(client: ServableClient, deps: FunctionContext, now: Date): Promise<Record<string, string>> {
  const slots = await within(AVAILABILITY_BUDGET_MS, () => deps.adapters.calendarFor(client).findSlots({ limit: 3 })).catch((error: unknown): typeof TIMED_OUT => {
    deps.logger.warn({ client_id: client.id, err: error instanceof Error ? error.message : String(error) }, 'availability unavailable for call_inbound');
    return TIMED_OUT;
  });
  if (slots === TIMED_OUT) return { next_available_slots: 'unknown', availability_known: 'false' };
  return {
    next_available_slots: slots.length > 0 ? speakSlots(slots, client.config.timezone, now) : 'none in the next two weeks',
    availability_known: 'true',
  };
}

async function callerContext(client: ServableClient, phone: string | undefined, deps: FunctionContext): Promise<Record<string, string>> {
  if (!phone) return {};
  const customer = await deps.tenancy.withTenant(client.id, (tx) => findCustomerByPhone(tx, client.id, phone));
  const upcoming = await within(AVAILABILITY_BUDGET_MS, () => deps.adapters.calendarFor(client).findUpcoming({ phone })).catch((): typeof TIMED_OUT => TIMED_OUT);
  const next = upcoming === TIMED_OUT ? undefined : upcoming[0];
  return {
    ...(customer?.name ? { caller_name: customer.name } : {}),
    ...(next ? { caller_upcoming_appointment: DateTime.fromISO(next.start, { zone: client.config.timezone }).toFormat("cccc, LLLL d 'at' h:mm a") } : {}),
  };
}

export async function buildInboundResponse(client: ServableClient, inbound: CallInbound, deps: FunctionContext, now: Date = new Date()): Promise<{ response: InboundResponse; decision: InboundDecision }> {
  const { config } = client;
  const limits = config.limits;
  // Every lookup starts at once; the overflow decision only needs the count.
  const phone = toE164(inbound.from_number, defaultCountryOf(config));
  const slotsLookup = availability(client, deps, now);
  const callerLookup = callerContext(client, phone, deps).catch(() => ({}));
  const active = await activeCalls(deps, client.id).catch(() => 0);
  let decision: InboundDecision = 'accepted';
  if (active >= limits.max_concurrent_calls) {
    switch (limits.overflow) {
      case 'reject':
        // Only `reject` is sent: Retell validates every other field even when rejecting.
        return { response: { call_inbound: { reject: true } }, decision: 'rejected' };
      case 'agent':
        decision = 'overflow_agent';
        break;
      case 'allow':
        decision = 'over_capacity';
        break;
    }
  }

  const local = DateTime.fromJSDate(now, { zone: config.timezone });
  const [slots, caller] = await Promise.all([slotsLookup, callerLookup]);
  const dynamic: Record<string, string> = {
    ...config.retell.dynamic_variables,
    business_name: config.name,
    current_time: local.toFormat("cccc, LLLL d 'at' h:mm a"),
    today: local.toFormat('cccc, LLLL d, yyyy'),
    is_open_now: String(isOpenAt(config, now)),
    hours_today: hoursToday(config, now),
    ...slots,
    ...caller,
  };
  return {
    decision,
    response: {
      call_inbound: {
        ...(decision === 'overflow_agent' && config.retell.overflow_agent_id ? { override_agent_id: config.retell.overflow_agent_id } : {}),
        dynamic_variables: dynamic,
        metadata: { client_id: client.id, ...(decision === 'over_capacity' ? { over_capacity: true } : {}) },
      },
    },
  };
}
