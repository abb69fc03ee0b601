/**
 * What happened on a call, as one word. The rule, first match wins:
 *   booked     an appointment row carries this call's id (any status: a later cancellation does not
 *              change what the call achieved)
 *   message    a `message_taken` message, or a successful `take_message` function call, carries it
 *   voicemail  disconnection_reason `voicemail_reached`, or Retell's analysis says `in_voicemail`
 *   no_answer  the call never connected: status `not_connected`, or a reason nobody answered
 *   other      everything else (questions answered, hang-ups, transfers, errors)
 * voicemail and no_answer are src/calls/call-connection.ts's rule, the one the post-call texts use:
 * a call is "connected" when its outcome is not no_answer or voicemail and it lasted longer than 0 ms.
 *
 * The rule is one SQL expression so filters, lists, the CSV export and analytics agree; callers
 * supply the booking and message evidence (correlated EXISTS). The analytics rollups apply the
 * same rule inside the database (migration 0019's analytics_call_outcome, run by the triggers
 * that keep them); analytics.reference.test.ts holds the two equal, reason by reason.
 */
import { sql, type SQL } from 'drizzle-orm';
import { NOT_CONNECTED_REASONS, VOICEMAIL_REASON } from '../calls/call-connection.ts';

export const callOutcomes = ['booked', 'message', 'voicemail', 'no_answer', 'other'] as const;
export type CallOutcome = (typeof callOutcomes)[number];

/** Nobody answered: the platform's one list (src/calls/call-connection.ts). */
export const NO_ANSWER_REASONS = NOT_CONNECTED_REASONS;

const noAnswerList = sql.join(
  NO_ANSWER_REASONS.map((reason) => sql`${reason}`),
  sql`, `,
);

/** Which SQL each outcome becomes in the CASE: its label, or a code. */
type OutcomeValues = (outcome: CallOutcome) => SQL;

function outcomeCase(evidence: { booked: SQL; message: SQL }, value: OutcomeValues): SQL {
  return sql`(case
    when ${evidence.booked} then ${value('booked')}
    when ${evidence.message} then ${value('message')}
    when c.disconnection_reason = ${VOICEMAIL_REASON} or (c.analysis ->> 'in_voicemail') = 'true' then ${value('voicemail')}
    when c.status = 'not_connected' or c.disconnection_reason in (${noAnswerList}) then ${value('no_answer')}
    else ${value('other')} end)`;
}

/**
 * The outcome CASE over the `calls` table aliased `c`. `booked` and `message` are boolean SQL
 * saying whether that evidence exists for the row.
 */
export function outcomeSql(evidence: { booked: SQL; message: SQL }): SQL {
  return outcomeCase(evidence, (outcome) => sql.raw(`'${outcome}'`));
}

/** An outcome's code: its index in `callOutcomes` (0 = booked … 4 = other), as a SQL literal. */
export function outcomeCode(outcome: CallOutcome): SQL {
  return sql.raw(String(callOutcomes.indexOf(outcome)));
}

/**
 * The same rule yielding `outcomeCode`s: aggregates compare the outcome several times per call,
 * and an integer compares cheaper than text.
 */
export function outcomeCodeSql(evidence: { booked: SQL; message: SQL }): SQL {
  return outcomeCase(evidence, outcomeCode);
}

/**
 * Evidence as correlated EXISTS probes: cheap for one page of calls (uses (client_id, call_id)
 * indexes). `offset 0` keeps each a probe: without it PostgreSQL may plan the EXISTS as a hashed
 * subplan instead, reading every appointment (or message, function call) of the client first; for
 * the three calls of an analytics edge that was 10,000 appointments and most of the edge's 8 ms.
 */
export const perRowEvidence = {
  booked: sql`exists (select 1 from appointments a where a.client_id = c.client_id and a.call_id = c.call_id offset 0)`,
  message: sql`(exists (select 1 from messages m where m.client_id = c.client_id and m.call_id = c.call_id and m.kind = 'message_taken' offset 0)
    or exists (select 1 from function_calls f where f.client_id = c.client_id and f.call_id = c.call_id and f.name = 'take_message' and f.outcome = 'ok' offset 0))`,
} as const;

/**
 * The sort key of calls: when the call started, or when we first heard of it. The stored column
 * `sort_at` (generated as coalesce(started_at, created_at), migration 0020) rather than the
 * expression: a bound on the expression is no index bound under row-level security.
 */
export const callSortAt = sql`c.sort_at`;
