/**
 * What happened on a call, as one word. The rule, first match wins:
 *   booked     an appointment row carries this call's id (any status: a later cancellation does not
 *              change what the call achieved)
 *   message    a `message_taken` message, or a successful `take_message` function call, carries it
 *   voicemail  disconnection_reason `voicemail_reached`, or Retell's analysis says `in_voicemail`
 *   no_answer  the call never connected: status `not_connected`, or a dial failure / decline reason
 *   other      everything else (questions answered, hang-ups, transfers, errors)
 * A call is "connected" when its outcome is not no_answer or voicemail and it lasted longer than 0 ms.
 *
 * The rule is one SQL expression so filters, lists, the CSV export and analytics agree; callers
 * supply the booking and message evidence (correlated EXISTS for a page, hash joins for aggregates).
 */
import { sql, type SQL } from 'drizzle-orm';

export const callOutcomes = ['booked', 'message', 'voicemail', 'no_answer', 'other'] as const;
export type CallOutcome = (typeof callOutcomes)[number];

/** Retell disconnection reasons meaning nobody answered (../shared/reference/retell.md). */
export const NO_ANSWER_REASONS = [
  'dial_no_answer',
  'dial_busy',
  'dial_failed',
  'user_declined',
  'invalid_destination',
  'registered_call_timeout',
  'error_user_not_joined',
] as const;

const noAnswerList = sql.join(
  NO_ANSWER_REASONS.map((reason) => sql`${reason}`),
  sql`, `,
);

/**
 * The outcome CASE over the `calls` table aliased `c`. `booked` and `message` are boolean SQL
 * saying whether that evidence exists for the row.
 */
export function outcomeSql(evidence: { booked: SQL; message: SQL }): SQL {
  return sql`(case
    when ${evidence.booked} then 'booked'
    when ${evidence.message} then 'message'
    when c.disconnection_reason = 'voicemail_reached' or (c.analysis ->> 'in_voicemail') = 'true' then 'voicemail'
    when c.status = 'not_connected' or c.disconnection_reason in (${noAnswerList}) then 'no_answer'
    else 'other' end)`;
}

/** Evidence as correlated EXISTS probes: cheap for one page of calls (uses (client_id, call_id) indexes). */
export const perRowEvidence = {
  booked: sql`exists (select 1 from appointments a where a.client_id = c.client_id and a.call_id = c.call_id)`,
  message: sql`(exists (select 1 from messages m where m.client_id = c.client_id and m.call_id = c.call_id and m.kind = 'message_taken')
    or exists (select 1 from function_calls f where f.client_id = c.client_id and f.call_id = c.call_id and f.name = 'take_message' and f.outcome = 'ok'))`,
} as const;

/** The sort key of calls: when the call started, or when we first heard of it. */
export const callSortAt = sql`coalesce(c.started_at, c.created_at)`;
