/**
 * Whether a call connected: the one rule of the platform. The post-call texts, the caller email,
 * `call.completed` and analytics' outcome and `connected` figures all use it.
 *
 *   no_answer  nobody took the call: status `not_connected`, or a reason in NOT_CONNECTED_REASONS
 *              (dial failures, declines, a registered call nobody joined, an IVR or a spam block
 *              instead of a person)
 *   voicemail  `voicemail_reached`, or Retell's analysis says `in_voicemail`
 *   connected  everything else that lasted longer than 0 ms; a call without a duration (or 0 ms)
 *              never connected
 */

/** Retell disconnection reasons (../shared/reference/retell.md) meaning no person answered. */
export const NOT_CONNECTED_REASONS = [
  'dial_no_answer',
  'dial_busy',
  'dial_failed',
  'user_declined',
  'invalid_destination',
  'registered_call_timeout',
  'error_user_not_joined',
  'ivr_reached',
  'marked_as_spam',
] as const;

export const VOICEMAIL_REASON = 'voicemail_reached';

export type CallConnection = 'connected' | 'no_answer' | 'voicemail';

export interface CallConnectionFacts {
  status: string | null;
  disconnectionReason: string | null;
  /** Retell's `call_analysis.in_voicemail`, when analysed. */
  inVoicemail: boolean | null;
  durationMs: number | null;
}

const notConnected = new Set<string>(NOT_CONNECTED_REASONS);

/** What the call reached; `connected` also needs a duration (see isConnected). */
export function callReached(call: Pick<CallConnectionFacts, 'status' | 'disconnectionReason' | 'inVoicemail'>): CallConnection {
  if (call.disconnectionReason === VOICEMAIL_REASON || call.inVoicemail === true) return 'voicemail';
  if (call.status === 'not_connected' || notConnected.has(call.disconnectionReason ?? '')) return 'no_answer';
  return 'connected';
}

/** A person talked with the agent: reached `connected` and lasted longer than 0 ms. */
export function isConnected(call: CallConnectionFacts): boolean {
  return callReached(call) === 'connected' && (call.durationMs ?? 0) > 0;
}

/** `in_voicemail` from a stored analysis object. */
export function inVoicemailOf(analysis: unknown): boolean | null {
  const value = (analysis as { in_voicemail?: unknown } | null)?.in_voicemail;
  return typeof value === 'boolean' ? value : null;
}
